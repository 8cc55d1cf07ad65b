#!/usr/bin/env bash
# Refreshes the vendored chart library from the npm registry: Apache
# ECharts's single minified file, its licence and notices. djx embeds
# echarts.min.js in the binary at build time (host/src/web/assets.rs), so
# neither building nor running djx needs Node.js; this script needs npm.
#
#   host/src/web/assets/vendor/refresh.sh            # the pinned version
#   ECHARTS_VERSION=6.2.0 host/src/web/assets/vendor/refresh.sh
#
# After a version change: update the version in assets.rs and the README,
# run the browser tests (cargo test -p djx-host --test all ui::) and commit.
set -euo pipefail
version="${ECHARTS_VERSION:-6.1.0}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "echarts@$version" >/dev/null
tar xzf "echarts-$version.tgz"
cp package/dist/echarts.min.js "$here/echarts.min.js"
cp package/LICENSE "$here/LICENSE-echarts"
cp package/NOTICE "$here/NOTICE-echarts"
cp package/licenses/LICENSE-d3 "$here/LICENSE-d3"
echo "echarts $version: $(wc -c < "$here/echarts.min.js") bytes in $here/echarts.min.js"
