//! `djx ui` and `djx report` in a real browser (headless Chromium through
//! chromedriver) and through plain HTTP: the iris experiment's pages, live
//! updates while jobs run, the report from `file://` with the network off,
//! the token, escaping of what the store holds, and the errors.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use serde_json::Value;

use crate::browser::{Session, browser, get_json, http};
use crate::support::*;

/// A running `djx ui`, stopped when dropped.
pub struct Ui {
    child: Child,
    /// `http://127.0.0.1:PORT` (no slash).
    pub base: String,
    /// The token (empty with `--no-token`).
    pub token: String,
}

impl Ui {
    /// Starts `djx ui --port 0` (any free port) in the test dir.
    pub fn start(t: &TestDir, extra: &[&str]) -> Ui {
        let mut child = t
            .djx()
            .args(["ui", "--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn djx ui");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the URL");
        let url = line.trim();
        assert!(url.starts_with("http://127.0.0.1:"), "printed {url:?}");
        let (base, token) = match url.split_once("/?token=") {
            Some((base, token)) => (base.to_owned(), token.to_owned()),
            None => (url.trim_end_matches('/').to_owned(), String::new()),
        };
        Ui { child, base, token }
    }

    /// `path` on the server, with the token.
    pub fn url(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{}{path}{sep}token={}", self.base, self.token)
    }

    /// GET `path` with the token; status and JSON.
    pub fn json(&self, path: &str) -> (u16, Value) {
        get_json(
            &format!("{}{path}", self.base),
            &[("Authorization", &format!("token {}", self.token))],
        )
    }

    /// GET `path` with the token; status and text.
    pub fn text(&self, path: &str) -> (u16, String) {
        let (status, _, body) = http(
            "GET",
            &format!("{}{path}", self.base),
            &[("Authorization", &format!("token {}", self.token))],
            None,
        );
        (status, String::from_utf8_lossy(&body).into_owned())
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Adds and runs the iris experiment (36 jobs).
pub fn iris(t: &TestDir) {
    let yml = iris_experiment(t);
    djx_ok(t, &["add", yml.to_str().expect("utf-8")]);
    djx_ok(t, &["run", "1", "--workers", "2"]);
}

/// How many points (or lines) the chart in `css` draws: the data of every
/// series of a given type.
fn chart_points(b: &Session, css: &str, kind: &str) -> u64 {
    let script = format!(
        "const c = echarts.getInstanceByDom(document.querySelector({css:?}));
         if (!c) return -1;
         return c.getOption().series.filter(s => s.type === {kind:?})
                 .reduce((n, s) => n + s.data.length, 0);"
    );
    b.js(&script).as_u64().unwrap_or(0)
}

/// A script returning the `data-v` values of the table column `col`, top
/// to bottom.
fn column_values(col: &str) -> String {
    format!(
        "const i = document.querySelector('table.jobs thead th[data-col=\"' + {col:?} + '\"]').cellIndex;
         return Array.from(document.querySelectorAll('table.jobs tbody tr')).map(r => +r.cells[i].dataset.v);"
    )
}

/// The table's rows.
fn rows(b: &Session) -> u64 {
    b.js("return document.querySelectorAll('table.jobs tbody tr').length")
        .as_u64()
        .unwrap_or(0)
}

fn iris_pages(backend: Backend) {
    let t = TestDir::on(backend.clone());
    iris(&t);
    let ui = Ui::start(&t, &[]);
    let jobs = jobs_json(&t, "1");
    let Some(b) = browser("iris_pages") else {
        return;
    };
    // The printed URL sets the cookie and drops the token from the address.
    b.goto(&format!("{}/?token={}", ui.base, ui.token));
    assert!(!b.url().contains("token"), "token left in {}", b.url());
    b.wait_for(
        "the experiment listed",
        10,
        "document.querySelector('tr[data-exp=\"1\"]')",
    );
    let listed = b.js("return document.querySelector('tr[data-exp=\"1\"]').innerText");
    assert!(
        listed
            .as_str()
            .unwrap_or("")
            .contains("try different regularisations"),
        "{listed}"
    );
    b.screenshot(&format!("experiments-{}", name(&backend)));

    b.click("tr[data-exp=\"1\"] a");
    b.wait_for(
        "the page drawn",
        30,
        "document.documentElement.dataset.ready",
    );
    assert_eq!(rows(&b), 36, "one row per job");
    assert_eq!(
        chart_points(&b, ".chart.parallel", "parallel"),
        36,
        "a line per job"
    );
    let dims = b.js("return document.querySelectorAll('.dims .chart').length");
    assert_eq!(dims, 3, "one plot per grid dimension");
    assert_eq!(
        chart_points(&b, ".dims .chart", "scatter"),
        36,
        "a point per job"
    );
    let metric = b.js("return document.querySelector('.plots select.metric').value");
    assert_eq!(metric, "mean_test_accuracy");
    b.screenshot(&format!("experiment-{}", name(&backend)));

    // Sorting goes back to the server; the page stays.
    b.js("window.marker = 'kept'; return 1");
    b.click("th[data-col=\"metrics.mean_test_accuracy\"] a");
    b.wait_for(
        "sorted",
        10,
        "location.search.includes('sort=metrics.mean_test_accuracy')",
    );
    b.wait_for("resorted", 10, "window.djxRefreshes >= 1");
    assert_eq!(b.js("return window.marker"), "kept", "no reload");
    let shown: Vec<f64> = b
        .js(&column_values("metrics.mean_test_accuracy"))
        .as_array()
        .expect("values")
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    assert_eq!(shown.len(), 36);
    assert!(
        shown.windows(2).all(|w| w[0] <= w[1]),
        "ascending: {shown:?}"
    );

    // A click on a job opens its page, with its key and records.
    let first = b.js("return document.querySelector('table.jobs tbody tr').dataset.job");
    let id: i64 = first
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a job id");
    b.click("table.jobs tbody tr a");
    b.wait_for("the job page", 10, "document.querySelector('section.job')");
    let job = &jobs[(id - 1) as usize];
    let key = b.js("return document.querySelector('code.key').textContent");
    assert_eq!(key, job["key"], "the job's key");
    let show: Value =
        serde_json::from_str(&djx_ok(&t, &["show", &id.to_string(), "--json"])).expect("show json");
    let records = b.js("return document.querySelectorAll('table.records tbody tr').length");
    assert_eq!(
        records.as_u64(),
        Some(show["records"].as_array().expect("records").len() as u64)
    );
    b.screenshot(&format!("job-{}", name(&backend)));

    // The API's field names are the CLI's.
    let (status, api_job) = ui.json(&format!("/api/jobs/{id}"));
    assert_eq!(status, 200);
    for field in [
        "job",
        "experiment",
        "module",
        "datasets",
        "attempts",
        "records",
        "artifacts",
        "log",
    ] {
        assert_eq!(api_job[field], show[field], "/api/jobs/{id} {field}");
    }
    let (status, list) = ui.json("/api/experiments");
    assert_eq!(status, 200);
    let ls: Vec<Value> = djx_ok(&t, &["ls", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(list, Value::Array(ls));
    let (status, page) = ui.json("/api/experiments/1/jobs?sort=-metrics.mean_test_accuracy&limit=5&filter=labels.max_depth%3E%3D4");
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["matched"], 24);
    let api_rows = page["rows"].as_array().expect("rows");
    assert_eq!(api_rows.len(), 5);
    let accs: Vec<f64> = api_rows
        .iter()
        .map(|r| {
            r["metrics"]["mean_test_accuracy"]
                .as_f64()
                .expect("a value")
        })
        .collect();
    assert!(
        accs.windows(2).all(|w| w[0] >= w[1]),
        "descending: {accs:?}"
    );
    for row in api_rows {
        assert!(row["labels"]["max_depth"].as_i64() >= Some(4));
        let cli = jobs[(row["id"].as_i64().expect("id") - 1) as usize].clone();
        let mut api = row.clone();
        api.as_object_mut().expect("object").remove("metrics");
        assert_eq!(api, cli, "a row has `djx jobs --json`'s fields");
    }

    // An artifact downloads by digest, checked; its lineage has a page.
    let artifact = jobs
        .iter()
        .find_map(|j| {
            let show: Value =
                serde_json::from_str(&djx_ok(&t, &["show", &j["id"].to_string(), "--json"]))
                    .expect("json");
            show["artifacts"].as_array()?.first().cloned()
        })
        .expect("a job with an artifact");
    let digest = artifact["digest"].as_str().expect("digest");
    let (status, headers, bytes) = http(
        "GET",
        &format!("{}/artifacts/{digest}", ui.base),
        &[("Authorization", &format!("token {}", ui.token))],
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(blake3::hash(&bytes).to_hex().as_str(), digest);
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-disposition" && v.contains("attachment"))
    );
    b.goto(&ui.url(&format!("/lineage/{digest}")));
    b.wait_for(
        "the lineage page",
        10,
        "document.querySelector('section.artifact')",
    );
    let produced = b.js("return document.querySelectorAll('section.artifact ul.uses > li').length");
    assert!(produced.as_u64() >= Some(1), "{produced}");
    b.screenshot(&format!("lineage-{}", name(&backend)));

    // Bad input: 400s and 404s that say what is wrong.
    let (status, e) = ui.json("/api/experiments/1/jobs?limit=0");
    assert_eq!(status, 400);
    assert!(e["error"].as_str().unwrap_or("").contains("limit"), "{e}");
    let (status, e) = ui.json("/api/experiments/1/jobs?sort=labels.nope");
    assert_eq!(status, 400);
    assert!(
        e["error"].as_str().unwrap_or("").contains("unknown column"),
        "{e}"
    );
    let (status, e) = ui.json("/api/experiments/1/jobs?bogus=1");
    assert_eq!(status, 400, "{e}");
    let (status, e) = ui.json("/api/experiments/99");
    assert_eq!(
        (status, e["error"].as_str()),
        (404, Some("no experiment 99"))
    );
    let (status, _) = ui.json("/api/jobs/9999");
    assert_eq!(status, 404);
    let (status, html) = ui.text("/experiments/99");
    assert_eq!(status, 404);
    assert!(html.contains("no experiment 99"), "{html}");
    let (status, _) = ui.text("/jobs/abc");
    assert_eq!(status, 400);
    let (status, _) = ui.text("/artifacts/..%2F..%2Fetc%2Fpasswd");
    assert_eq!(status, 400, "only a digest names an artifact");
    let (status, _) = ui.text(&format!("/artifacts/{}", "0".repeat(64)));
    assert_eq!(status, 404, "a digest the store does not list");
    let (status, _) = ui.text("/no/such/page");
    assert_eq!(status, 404);
}

fn name(backend: &Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres(_) => "postgres",
    }
}

fn live_counts(backend: Backend) {
    let t = TestDir::on(backend);
    let yml = steps_experiment(&t, "slow", 6, 20, 3_000_000, "");
    djx_ok(&t, &["add", yml.to_str().expect("utf-8")]);
    let ui = Ui::start(&t, &[]);
    let Some(b) = browser("live_counts") else {
        return;
    };
    b.goto(&ui.url("/experiments/1"));
    b.wait_for(
        "the page drawn",
        10,
        "document.documentElement.dataset.ready",
    );
    assert_eq!(
        b.js("return document.querySelector('[data-count=finished]').textContent"),
        "0"
    );
    assert_eq!(
        b.js("return document.querySelector('[data-count=unassigned]').textContent"),
        "6"
    );
    b.js("window.marker = 'kept'; return 1");
    assert_eq!(
        b.js("return window.djxLive"),
        "sse",
        "updates come as events"
    );
    let mut run = spawn_run(&t, 1);
    b.wait_for(
        "all six jobs finished on the page",
        120,
        "document.querySelector('[data-count=finished]').textContent === '6'",
    );
    let status = run.wait().expect("djx run");
    assert!(status.success());
    assert_eq!(
        b.js("return window.marker"),
        "kept",
        "the page was not reloaded"
    );
    b.wait_for(
        "every row finished",
        10,
        "document.querySelectorAll('table.jobs tbody tr[data-status=FINISHED]').length === 6",
    );
    // Metrics arrived while the page was open: plots and curves appear.
    b.wait_for("the curves drawn", 20, "document.querySelector('section.curves') && !document.querySelector('section.curves').hidden && echarts.getInstanceByDom(document.querySelector('.chart.curve'))");
    b.wait_for(
        "curves of the ticked jobs",
        20,
        "echarts.getInstanceByDom(document.querySelector('.chart.curve')).getOption().series.length === 5",
    );
    assert_eq!(b.js("return window.djxLive"), "sse", "and kept coming");
    b.screenshot("experiment-live");
}

fn report_offline(backend: Backend) {
    let t = TestDir::on(backend);
    iris(&t);
    let jobs = jobs_json(&t, "1");
    let report = t.path().join("report.html");
    djx_ok(&t, &["report", "1", "-o", report.to_str().expect("utf-8")]);
    let Some(b) = browser("report_offline") else {
        return;
    };
    b.offline(true);
    b.goto(&format!("file://{}", report.display()));
    b.wait_for(
        "the report drawn",
        30,
        "document.documentElement.dataset.ready",
    );
    assert_eq!(rows(&b), 36);
    assert_eq!(chart_points(&b, ".chart.parallel", "parallel"), 36);
    assert_eq!(chart_points(&b, ".dims .chart", "scatter"), 36);
    let table = b.js("return document.querySelector('table.jobs').innerText");
    let table = table.as_str().expect("text");
    for job in &jobs {
        for field in ["key", "result_digest"] {
            let digest = job[field].as_str().expect("a digest");
            assert!(
                table.contains(digest),
                "{field} {digest} of job {}",
                job["id"]
            );
        }
    }
    // No request at all: nothing loaded, nothing to load.
    let loaded = b.js("return performance.getEntriesByType('resource').map(e => e.name)");
    assert_eq!(loaded, Value::Array(vec![]), "requests made");
    let external = b.js(
        "return Array.from(document.querySelectorAll('[src],[href]')).map(e => e.getAttribute('src') || e.getAttribute('href'))",
    );
    assert_eq!(external, Value::Array(vec![]), "links or sources");
    // The report's table sorts and filters by itself.
    b.click("th[data-col=\"metrics.mean_test_accuracy\"]");
    let sorted: Vec<f64> = b
        .js(&column_values("metrics.mean_test_accuracy"))
        .as_array()
        .expect("values")
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    assert_eq!(sorted.len(), 36);
    assert!(
        sorted.windows(2).all(|w| w[0] <= w[1]),
        "ascending: {sorted:?}"
    );
    b.js("const i = document.querySelector('input.report-filter'); i.value = 'many_both'; i.dispatchEvent(new Event('input')); return 1");
    let visible = b.js("return Array.from(document.querySelectorAll('table.jobs tbody tr')).filter(r => !r.hidden).length");
    assert_eq!(visible, 9, "the many_both jobs");
    // The cross-validation folds look like repetitions: the report groups
    // over them, by the other two dimensions, with error bars.
    let grouped = b.js("return document.querySelectorAll('table.grouped tbody tr').length");
    assert_eq!(grouped, 12, "max_depth x min_samples");
    let bars = b.js(
        "return echarts.getInstanceByDom(document.querySelector('.dims.grouped .chart')).getOption().series.filter(s => s.type === 'custom').length",
    );
    assert_eq!(bars, 4, "a series of error bars per min_samples");
    b.screenshot("report");
    b.offline(false);
}

fn token_required(backend: Backend) {
    let t = TestDir::on(backend);
    let ui = Ui::start(&t, &[]);
    let (status, body) = get_json(&format!("{}/api/experiments", ui.base), &[]);
    assert_eq!(status, 403);
    assert!(
        body["error"].as_str().unwrap_or("").contains("token"),
        "{body}"
    );
    let (status, _) = get_json(&format!("{}/api/experiments?token=wrong", ui.base), &[]);
    assert_eq!(status, 403);
    let (status, _, page) = http(
        "GET",
        &format!("{}/", ui.base),
        &[("Cookie", "djx_token_1=x")],
        None,
    );
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&page).contains("token"));
    let (status, headers, _) = http(
        "GET",
        &format!("{}/?token={}", ui.base, ui.token),
        &[],
        None,
    );
    assert_eq!(status, 303, "the printed URL redirects without the token");
    let cookie = headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.split(';').next().unwrap_or("").to_owned())
        .expect("a cookie");
    assert!(cookie.ends_with(&ui.token));
    let (status, _, _) = http(
        "GET",
        &format!("{}/", ui.base),
        &[("Cookie", &cookie)],
        None,
    );
    assert_eq!(status, 200, "the cookie is enough");
    let (status, _) = ui.json("/api/experiments");
    assert_eq!(status, 200, "so is the header");
    if let Some(b) = browser("token_required") {
        b.goto(&format!("{}/experiments/1", ui.base));
        b.wait_for("the refusal", 10, "document.querySelector('section.error')");
        let text = b.js("return document.body.innerText");
        assert!(
            text.as_str().unwrap_or("").contains("needs its token"),
            "{text}"
        );
        assert!(b.js("return document.querySelector('table')").is_null());
    }
    // --no-token only on loopback.
    let out = run(t
        .djx()
        .args(["ui", "--no-token", "--bind", "0.0.0.0", "--port", "0"]));
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("loopback"), "{}", stderr(&out));
    let open = Ui::start(&t, &["--no-token"]);
    assert!(open.token.is_empty());
    let (status, _) = get_json(&format!("{}/api/experiments", open.base), &[]);
    assert_eq!(status, 200);
}

fn escaping(backend: Backend) {
    let t = TestDir::on(backend);
    let evil = "<script>window.pwned = 1</script>";
    // Issue 21: a grid value and a grid key that are markup reached the
    // plots' tooltips as HTML.
    let yml = format!(
        "name: '<img src=x onerror=\"window.pwned = 2\">'\nmodule: {}\njob:\n  labels: {{who: '{evil}'}}\n  parameter: {{records: 2, note: '</script><b>bold</b>'}}\nexperiment:\n  grid:\n    - labels.id: [0, 1]\n    - labels.tag: ['<img src=x onerror=window.pwned=3>', plain]\n    - 'labels.k\"><img src=x onerror=window.pwned=4>': [1, 2]\n",
        djx_fixtures::STEPS
    );
    let path = t.path().join("evil.yml");
    std::fs::write(&path, yml).expect("write");
    djx_ok(&t, &["add", path.to_str().expect("utf-8")]);
    djx_ok(&t, &["run", "1"]);
    let ui = Ui::start(&t, &[]);
    let Some(b) = browser("escaping") else {
        return;
    };
    for page in ["/", "/experiments/1", "/jobs/1"] {
        b.goto(&ui.url(page));
        b.wait_for("the page", 10, "document.readyState === 'complete'");
        assert!(
            b.js("return window.pwned").is_null(),
            "script ran on {page}"
        );
        assert!(
            b.js("return document.querySelector('main img, main b')")
                .is_null(),
            "markup on {page}"
        );
        let text = b.js("return document.querySelector('main').innerText");
        let text = text.as_str().unwrap_or("");
        assert!(
            text.contains("<img src=x onerror"),
            "the name as text on {page}: {text}"
        );
        if page != "/" {
            assert!(text.contains(evil), "the label as text on {page}");
        }
    }
    b.goto(&ui.url("/experiments/1"));
    b.wait_for(
        "the page drawn",
        10,
        "document.documentElement.dataset.ready",
    );
    let cell = b.js("return Array.from(document.querySelectorAll('table.jobs td')).map(td => td.textContent).filter(t => t.includes('script'))[0]");
    assert_eq!(cell, evil, "the cell holds the label's text");
    tooltips_are_text(&b, "the UI");
    b.screenshot("escaping");

    // The report: the same tooltips, and a Content-Security-Policy that
    // lets its own scripts run and no other.
    let report = t.path().join("report.html");
    djx_ok(&t, &["report", "1", "-o", report.to_str().expect("utf-8")]);
    b.goto(&format!("file://{}", report.display()));
    b.wait_for(
        "the report drawn (its scripts allowed by their hashes)",
        20,
        "document.documentElement.dataset.ready",
    );
    tooltips_are_text(&b, "the report");
    b.js("document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=\"window.pwned = 5\">'); return 1");
    let script = "const s = document.createElement('script'); s.textContent = 'window.pwned = 6'; document.body.appendChild(s); return 1";
    b.js(script);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        b.js("return window.pwned").is_null(),
        "the report's policy blocks handlers and scripts of its own making"
    );
}

/// Shows the tooltip of every point of every grid-dimension plot on the
/// page, and checks each is text: no markup made an element, and no
/// handler ran.
fn tooltips_are_text(b: &Session, page: &str) {
    let shown = b.js("const texts = [];
         for (const el of document.querySelectorAll('.chart.dim')) {
           const chart = echarts.getInstanceByDom(el);
           chart.getOption().series.forEach((s, si) => {
             if (s.type !== 'scatter') return;
             s.data.forEach((_, di) => {
               chart.dispatchAction({ type: 'showTip', seriesIndex: si, dataIndex: di });
               if (el.querySelector('img')) throw new Error('markup in a tooltip: ' + el.innerHTML);
               texts.push(el.innerText);
             });
           });
         }
         return texts;");
    let texts: Vec<&str> = shown
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(texts.len() >= 4, "{page}: tooltips shown: {shown}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        b.js("return window.pwned").is_null(),
        "{page}: a tooltip ran a handler"
    );
    let text = texts.join("\n");
    assert!(
        text.contains("<img src=x onerror=window.pwned=3>"),
        "{page}: the value shown as text: {text}"
    );
}

/// Issue 21: 200 connections that never sent a request were all still held
/// after 35 s. Now each is closed when it has sent no request head within
/// the header read timeout (10 s), and connections beyond the limit (256)
/// wait their turn: the server still answers.
#[test]
fn idle_connections_are_closed_and_the_server_still_answers() {
    use std::io::Read;
    use std::time::{Duration, Instant};
    let t = TestDir::new();
    let ui = Ui::start(&t, &[]);
    let addr = ui.base.trim_start_matches("http://").to_owned();
    let idle: Vec<std::net::TcpStream> = (0..300)
        .map(|_| std::net::TcpStream::connect(&addr).expect("connect"))
        .collect();
    let started = Instant::now();
    let (status, body) = ui.text("/api/experiments");
    assert_eq!(status, 200, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "answered after {:?}",
        started.elapsed()
    );
    for (i, mut conn) in idle.into_iter().take(50).enumerate() {
        conn.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let mut rest = Vec::new();
        let closed = conn.read_to_end(&mut rest);
        assert!(closed.is_ok(), "idle connection {i} still open: {closed:?}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "closed after {:?}",
        started.elapsed()
    );
}

fn store_unreachable(backend: Backend) {
    let t = TestDir::on(backend.clone());
    match &backend {
        Backend::Sqlite => {
            // `.djx` is a file: the store cannot be opened.
            std::fs::write(t.path().join(".djx"), "not a directory").expect("write");
            let ui = Ui::start(&t, &[]);
            let (status, e) = ui.json("/api/experiments");
            assert_eq!(status, 503, "{e}");
            assert!(
                e["error"].as_str().unwrap_or("").contains("djx.db"),
                "names the store: {e}"
            );
            let (status, page) = ui.text("/");
            assert_eq!(status, 503);
            assert!(page.contains("Store unavailable"), "{page}");
            // The store comes back: the server serves it.
            std::fs::remove_file(t.path().join(".djx")).expect("remove");
            let (status, list) = ui.json("/api/experiments");
            assert_eq!((status, list), (200, Value::Array(vec![])));
        }
        Backend::Postgres(_) => {
            // A server that is not there.
            let mut cmd = t.djx();
            cmd.env("DJX_DATABASE_URL", "postgres://djx@127.0.0.1:9/none");
            let mut child = cmd
                .args(["ui", "--port", "0"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn");
            let mut line = String::new();
            BufReader::new(child.stdout.take().expect("stdout"))
                .read_line(&mut line)
                .expect("url");
            let (base, token) = line.trim().split_once("/?token=").expect("a URL");
            let (status, e) = get_json(
                &format!("{base}/api/experiments"),
                &[("Authorization", &format!("token {token}"))],
            );
            let _ = child.kill();
            let _ = child.wait();
            assert_eq!(status, 503, "{e}");
            assert!(
                e["error"].as_str().unwrap_or("").contains("127.0.0.1"),
                "{e}"
            );
        }
    }
}

fn long_curves_are_downsampled(backend: Backend) {
    let t = TestDir::on(backend);
    let yml = format!(
        "name: firehose\nmodule: {}\njob:\n  parameter: {{points: 20000}}\n",
        djx_fixtures::FIREHOSE
    );
    std::fs::write(t.path().join("fire.yml"), yml).expect("write");
    djx_ok(&t, &["add", "fire.yml"]);
    djx_ok(&t, &["run", "1"]);
    let ui = Ui::start(&t, &[]);
    let (status, c) = ui.json("/api/jobs/1/metrics?name=loss&points=100");
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["x"], "step");
    assert_eq!(c["total"], 20000);
    assert_eq!(c["downsampled"], true);
    let points = c["points"].as_array().expect("points");
    assert!(
        points.len() <= 100 && points.len() > 50,
        "{} points",
        points.len()
    );
    assert_eq!(
        points[0],
        serde_json::json!([0.0, 1.0]),
        "the first point stays"
    );
    assert_eq!(points[points.len() - 1][0], 19999.0, "the last point stays");
    let (status, list) = ui.json("/api/jobs/1/metrics");
    assert_eq!(status, 200);
    assert_eq!(list["metrics"][0]["name"], "loss");
    assert_eq!(list["metrics"][0]["curve"], true);
    let (status, _) = ui.json("/api/jobs/1/metrics?name=loss&points=100000");
    assert_eq!(status, 400, "at most 5,000 points");
}

/// A job that streams its records has its curves sketched when it ends:
/// the UI draws them from the sketch (the records deleted, the curve is
/// the same), every spike survives, and a curve whose step goes back, or
/// a job too short to stream, is read from its records.
fn long_curves_are_sketched(backend: Backend) {
    let t = TestDir::on(backend);
    let loss = |step: f64| 1.0 / (1.0 + step);
    for (i, (name, parameter)) in [
        ("spiky", "{points: 40000, spikes: [12345, -30001]}"),
        ("epochs", "{points: 40000, period: 10000}"),
        ("short", "{points: 1000}"),
    ]
    .into_iter()
    .enumerate()
    {
        let yml = format!(
            "name: {name}\nmodule: {}\njob:\n  parameter: {parameter}\n",
            djx_fixtures::FIREHOSE
        );
        std::fs::write(t.path().join(format!("{name}.yml")), yml).expect("write");
        djx_ok(&t, &["add", &format!("{name}.yml")]);
        djx_ok(&t, &["run", &(i + 1).to_string()]);
    }
    let store = t.store();
    let stored = store
        .attempt_curve(1, 1, "loss")
        .expect("read")
        .expect("the streamed job's curve is sketched");
    assert_eq!((stored.total, stored.points), (40000, 40000));
    assert_eq!(stored.x.as_deref(), Some("step"));
    assert!(
        stored.sketch.len() > 5000 && stored.sketch.len() <= 2 * 16384 + 2,
        "{} points kept",
        stored.sketch.len()
    );
    assert_eq!(
        store.attempt_curve(2, 1, "loss").expect("read"),
        None,
        "a step that goes back is not bucketed"
    );
    assert_eq!(
        store.attempt_curve(3, 1, "loss").expect("read"),
        None,
        "a job that did not stream has no sketch"
    );
    drop(store);

    let ui = Ui::start(&t, &[]);
    let (status, spiky) = ui.json("/api/jobs/1/metrics?name=loss&points=5000");
    assert_eq!(status, 200, "{spiky}");
    assert_eq!(spiky["total"], 40000);
    assert_eq!(spiky["downsampled"], true);
    let points: Vec<(f64, f64)> = spiky["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| (p[0].as_f64().expect("x"), p[1].as_f64().expect("y")))
        .collect();
    assert!(
        points.len() <= 5000 && points.len() > 4000,
        "{}",
        points.len()
    );
    assert_eq!(points[0], (0.0, 1.0), "the first point");
    assert_eq!(
        points[points.len() - 1],
        (39999.0, loss(39999.0)),
        "the last point"
    );
    assert!(points.windows(2).all(|w| w[0].0 < w[1].0), "by step");
    assert!(
        points.contains(&(12345.0, loss(12345.0) * 100.0)),
        "the spike up"
    );
    assert!(
        points.contains(&(30001.0, loss(30001.0) - 100.0)),
        "the spike down"
    );
    for (x, y) in &points {
        let real = [loss(*x), loss(*x) * 100.0, loss(*x) - 100.0];
        assert!(real.contains(y), "({x}, {y}) is a point of the curve");
    }
    let (status, epochs) = ui.json("/api/jobs/2/metrics?name=loss&points=100");
    assert_eq!(status, 200, "{epochs}");
    assert_eq!(epochs["total"], 40000);
    let xs: Vec<f64> = epochs["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| p[0].as_f64().expect("x"))
        .collect();
    assert!(
        xs.windows(2).all(|w| w[0] <= w[1]) && xs.last() == Some(&9999.0),
        "{xs:?}"
    );
    let (status, short) = ui.json("/api/jobs/3/metrics?name=loss&points=5000");
    assert_eq!(status, 200);
    assert_eq!(short["points"].as_array().map(Vec::len), Some(1000));
    drop(ui);

    // Drawn from the sketch, not the records.
    t.sql(
        "DELETE FROM record WHERE job_id = 1",
        "DELETE FROM record WHERE job_id = 1",
    );
    let ui = Ui::start(&t, &[]);
    let (status, again) = ui.json("/api/jobs/1/metrics?name=loss&points=5000");
    assert_eq!(status, 200);
    assert_eq!(again, spiky, "the same curve without its records");
}

/// A random search's sampled keys are plot dimensions beside its grid's.
fn random_search_dimensions(backend: Backend) {
    let t = TestDir::on(backend);
    let yml = format!(
        "name: search\nmodule: {}\njob:\n  parameter: {{alpha: 0.5}}\nexperiment:\n  grid:\n    - parameter.fold: [0, 1]\n  random:\n    samples: 3\n    seed: 7\n    space:\n      parameter.lr: {{loguniform: [1.0e-4, 1.0e-1]}}\n",
        djx_fixtures::BOOKKEEPING
    );
    std::fs::write(t.path().join("search.yml"), yml).expect("write");
    djx_ok(&t, &["add", "search.yml"]);
    djx_ok(&t, &["run", "1"]);
    let ui = Ui::start(&t, &[]);
    let (status, exp) = ui.json("/api/experiments/1");
    assert_eq!(status, 200, "{exp}");
    assert_eq!(exp["jobs"]["finished"], 6, "{exp}");
    assert_eq!(
        exp["dimensions"],
        serde_json::json!(["labels.fold", "parameter.lr"]),
        "{exp}"
    );
    let (status, plot) = ui.json("/api/experiments/1/plot?metric=m0");
    assert_eq!(status, 200, "{plot}");
    let lr = &plot["dims"][1];
    assert_eq!(lr["name"], "parameter.lr", "{plot}");
    assert_eq!(lr["values"].as_array().map(Vec::len), Some(3), "{plot}");
}

on_both_stores!(
    random_search_dimensions,
    iris_pages,
    live_counts,
    report_offline,
    token_required,
    escaping,
    store_unreachable,
    long_curves_are_downsampled,
    long_curves_are_sketched,
);
