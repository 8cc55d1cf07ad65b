//! The UI for deciding, in a real browser: jobs compared side by side,
//! the iris experiment grouped by a dimension (its means and standard
//! deviations checked against the records' CSV), artifacts previewed and
//! gathered in a gallery, and artifacts that carry scripts running nothing
//! in the UI's origin.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;

use crate::browser::{Session, browser, http};
use crate::support::*;
use crate::ui::{Ui, iris};

/// Every leaf of a job's labels and parameters, by dotted path.
fn leaves(job: &Value) -> BTreeMap<String, Value> {
    fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
        match v {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    walk(&format!("{prefix}.{k}"), v, out);
                }
            }
            other => {
                out.insert(prefix.to_owned(), other.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("labels", &job["labels"], &mut out);
    walk("parameter", &job["parameter"], &mut out);
    out
}

/// Waits until the page has drawn everything.
#[track_caller]
fn ready(b: &Session) {
    b.wait_for(
        "the page drawn",
        30,
        "document.documentElement.dataset.ready",
    );
}

/// Ticks exactly the jobs `ids` in the table (the page may have ticked
/// some itself, for their curves), as a reader clicks them.
fn tick(b: &Session, ids: &[i64]) {
    let ids: Vec<String> = ids.iter().map(|i| format!("'{i}'")).collect();
    b.js(&format!(
        "document.querySelectorAll('input.tick').forEach(b => {{
           if (b.checked !== [{}].includes(b.dataset.job)) b.click();
         }}); return 1;",
        ids.join(",")
    ));
}

fn compare_and_group_iris(backend: Backend) {
    let t = TestDir::on(backend.clone());
    iris(&t);
    let ui = Ui::start(&t, &[]);
    let jobs = jobs_json(&t, "1");
    let by_id = |id: i64| {
        jobs.iter()
            .find(|j| j["id"] == id)
            .unwrap_or_else(|| panic!("job {id}"))
    };

    // What differs among jobs 1, 2 and 14, computed here from `djx jobs`.
    let picked = [1, 2, 14];
    let flat: Vec<BTreeMap<String, Value>> = picked.iter().map(|&id| leaves(by_id(id))).collect();
    let paths: BTreeSet<&String> = flat.iter().flat_map(|f| f.keys()).collect();
    let differing: BTreeSet<String> = paths
        .iter()
        .filter(|p| flat.iter().any(|f| f.get(**p) != flat[0].get(**p)))
        .map(|p| (*p).clone())
        .collect();
    assert!(differing.contains("labels.min_samples"), "{differing:?}");

    let (status, api) = ui.json("/api/compare?jobs=1,2,14");
    assert_eq!(status, 200, "{api}");
    let api_differing: BTreeSet<String> = api["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["differs"] == true)
        .filter_map(|r| r["column"].as_str())
        .filter(|c| c.starts_with("labels.") || c.starts_with("parameter."))
        .map(str::to_owned)
        .collect();
    assert_eq!(api_differing, differing);
    // The terminal's JSON is the API's.
    let cli: Value = serde_json::from_str(&djx_ok(&t, &["compare", "1", "2", "14", "--json"]))
        .expect("compare --json");
    assert_eq!(cli, api);
    let text = djx_ok(&t, &["compare", "1", "2", "14"]);
    assert!(
        text.contains("labels.min_samples") && !text.contains("labels.itteration"),
        "{text}"
    );
    let (status, bad) = ui.json("/api/compare?jobs=1");
    assert_eq!(status, 400, "{bad}");

    // Grouped by max_depth: mean and sample standard deviation of
    // mean_test_accuracy over each depth's 12 jobs, from the records' CSV.
    let csv = djx_ok(&t, &["records", "1", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (depth, acc) = (col("labels.max_depth"), col("metrics.mean_test_accuracy"));
    let mut values: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for row in reader.records() {
        let row = row.expect("a row");
        if let Ok(v) = row[acc].parse::<f64>() {
            values
                .entry(row[depth].parse().expect("a depth"))
                .or_default()
                .push(v);
        }
    }
    let expected: Vec<(i64, f64, f64)> = values
        .iter()
        .map(|(d, v)| {
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
            (*d, mean, var.sqrt())
        })
        .collect();
    assert_eq!(expected.len(), 3, "{values:?}");
    let (status, groups) =
        ui.json("/api/experiments/1/groups?by=labels.max_depth&metric=mean_test_accuracy");
    assert_eq!(status, 200, "{groups}");
    let got: Vec<(i64, f64, f64)> = groups["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            let s = &g["metrics"]["mean_test_accuracy"];
            assert_eq!(s["n"], 12, "{g}");
            (
                g["key"]["labels.max_depth"].as_i64().expect("depth"),
                s["mean"].as_f64().expect("mean"),
                s["std"].as_f64().expect("std"),
            )
        })
        .collect();
    let close = |a: &[(i64, f64, f64)], b: &[(i64, f64, f64)]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.0 == y.0 && (x.1 - y.1).abs() < 1e-12 && (x.2 - y.2).abs() < 1e-12)
    };
    assert!(close(&got, &expected), "{got:?} != {expected:?}");
    // The table's filters apply to the groups: 3 of each depth's 12 jobs
    // are many_both.
    let (status, some) = ui.json(
        "/api/experiments/1/groups?by=labels.max_depth&metric=mean_test_accuracy&filter=labels.min_samples%3Dmany_both",
    );
    assert_eq!(status, 200, "{some}");
    let ns: Vec<Value> = some["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| g["metrics"]["mean_test_accuracy"]["n"].clone())
        .collect();
    assert_eq!(ns, [3, 3, 3], "{some}");

    let Some(b) = browser("compare_and_group_iris") else {
        return;
    };
    // Tick three jobs in the table and open the compare page.
    b.goto(&ui.url("/experiments/1"));
    ready(&b);
    tick(&b, &picked);
    b.wait_for(
        "the compare button",
        5,
        "!document.querySelector('button.compare').disabled",
    );
    b.click("button.compare");
    b.wait_for("the compare page", 10, "location.pathname === '/compare'");
    ready(&b);
    assert!(b.url().contains("jobs=1,2,14"), "{}", b.url());
    let highlighted: BTreeSet<String> = b
        .js("return Array.from(document.querySelectorAll('table.params tr.differs th.column')).map(t => t.textContent)")
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(Value::as_str)
        .filter(|c| c.starts_with("labels.") || c.starts_with("parameter."))
        .map(str::to_owned)
        .collect();
    assert_eq!(highlighted, differing, "the highlighted rows");
    let cells = b.js("return document.querySelectorAll('table.params tr.differs td.diff').length");
    assert!(
        cells.as_u64() >= Some(3 * differing.len() as u64),
        "{cells}"
    );
    let folded = b.js("return document.querySelectorAll('details.equal tr').length");
    let equal = api["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["differs"] == false)
        .count();
    assert_eq!(
        equal,
        paths.len() - differing.len() + 2,
        "and experiment, status"
    );
    assert_eq!(
        folded.as_u64(),
        Some(equal as u64),
        "the equal rows are folded"
    );
    let metric_cols = b.js(
        "return document.querySelector('table.metrics tr[data-metric=\"mean_test_accuracy\"]').cells.length",
    );
    assert_eq!(metric_cols, 4, "the name and three jobs");
    b.screenshot(&format!("compare-{}", backend_name(&backend)));

    // Group the experiment by max_depth: the table has a row per depth
    // with the same numbers, and the plot error bars.
    b.goto(&ui.url("/experiments/1"));
    ready(&b);
    b.click("input[name=group][value=\"labels.max_depth\"]");
    b.wait_for(
        "the grouped table",
        10,
        "document.querySelector('table.grouped')",
    );
    b.wait_for(
        "the grouped plot",
        10,
        "(echarts.getInstanceByDom(document.querySelector('.dims .chart')) || {getOption: () => ({series: []})}).getOption().series.some(s => s.type === 'custom')",
    );
    assert!(b.url().contains("group=labels.max_depth"), "{}", b.url());
    let rows = b.js(
        "const t = document.querySelector('table.grouped');
         const col = (c) => t.querySelector('th[data-col=\"' + c + '\"]').cellIndex;
         const m = col('metrics.mean_test_accuracy.mean'), s = col('metrics.mean_test_accuracy.std');
         return Array.from(t.tBodies[0].rows).map(r => [+r.cells[0].dataset.v, +r.cells[m].dataset.v, +r.cells[s].dataset.v]);",
    );
    let shown: Vec<(i64, f64, f64)> = rows
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r[0].as_f64().expect("depth") as i64,
                r[1].as_f64().expect("mean"),
                r[2].as_f64().expect("std"),
            )
        })
        .collect();
    assert!(close(&shown, &expected), "{shown:?} != {expected:?}");
    let bars = b.js(
        "return echarts.getInstanceByDom(document.querySelector('.dims .chart')).getOption().series
           .filter(s => s.type === 'custom').reduce((n, s) => n + s.data.length, 0)",
    );
    assert_eq!(bars, 3, "an error bar per depth");
    // A filter narrows the groups, in the table and in the plot.
    b.js("const i = document.querySelector('form.filters input.add'); i.value = 'labels.min_samples=many_both'; i.form.requestSubmit(); return 1");
    b.wait_for(
        "the filtered groups",
        10,
        "Array.from(document.querySelectorAll('table.grouped tbody tr')).every(r => r.cells[2].textContent === '3')",
    );
    b.wait_for(
        "the filtered plot",
        10,
        "echarts.getInstanceByDom(document.querySelector('.dims .chart')).getOption().series.some(s => s.type === 'line' && s.data.every(d => d.stats.n === 3))",
    );
    b.click("span.filter a");
    b.wait_for(
        "the filter removed",
        10,
        "Array.from(document.querySelectorAll('table.grouped tbody tr')).every(r => r.cells[2].textContent === '12')",
    );
    // Two dimensions: one series per min_samples along max_depth.
    b.click("input[name=group][value=\"labels.min_samples\"]");
    b.wait_for(
        "four series",
        10,
        "echarts.getInstanceByDom(document.querySelector('.dims .chart')).getOption().series.filter(s => s.type === 'custom').length === 4",
    );
    ready(&b);
    b.screenshot(&format!("grouped-{}", backend_name(&backend)));
    b.screenshot_of(
        "section.plots .dims",
        &format!("grouped-plots-{}", backend_name(&backend)),
    );
}

fn backend_name(backend: &Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        _ => "postgres",
    }
}

/// A script that marks this origin's storage if it ever runs here.
const EVIL_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" onload="localStorage.setItem('pwned', 'svg onload')"><script>localStorage.setItem('pwned', 'svg script')</script><rect width="120" height="40" fill="#4269d0"/></svg>"##;
const EVIL_HTML: &str = r#"<!doctype html><html><body onload="localStorage.setItem('pwned', 'html onload')"><script>localStorage.setItem('pwned', 'html script')</script><p>hello</p></body></html>"#;

fn artifact_previews(backend: Backend) {
    let t = TestDir::on(backend.clone());
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs");
    std::fs::copy(docs.join("ui-experiment.png"), t.path().join("a.png")).expect("a.png");
    std::fs::copy(docs.join("ui-job.png"), t.path().join("b.png")).expect("b.png");
    std::fs::write(t.path().join("evil.svg"), EVIL_SVG).expect("svg");
    std::fs::write(t.path().join("evil.html"), EVIL_HTML).expect("html");
    let mut table = String::from("step,loss\n");
    for i in 0..150 {
        table.push_str(&format!("{i},{}\n", 1.0 / (1.0 + i as f64)));
    }
    std::fs::write(t.path().join("table.csv"), &table).expect("csv");
    let yml = format!(
        "name: artifacts\nmodule: {}\ndata: {{a: a.png, b: b.png, svg: evil.svg, html: evil.html, table: table.csv}}\n\
         job:\n  parameter: {{records: 2}}\n\
         experiment:\n  grid:\n    - labels.id: [0, 1, 2]\n      parameter.save:\n\
         \x20       - {{plot.png: a, evil.svg: svg, evil.html: html, table.csv: table}}\n\
         \x20       - {{plot.png: b}}\n\
         \x20       - {{plot.png: a}}\n",
        djx_fixtures::STEPS
    );
    std::fs::write(t.path().join("artifacts.yml"), yml).expect("yml");
    djx_ok(&t, &["add", "artifacts.yml"]);
    djx_ok(&t, &["run", "1"]);
    let ui = Ui::start(&t, &[]);
    let auth = format!("token {}", ui.token);
    let get = |path: &str| {
        http(
            "GET",
            &format!("{}{path}", ui.base),
            &[("Authorization", &auth)],
            None,
        )
    };
    let header = |r: &crate::browser::Response, name: &str| {
        r.1.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let b3 = |path: &str| {
        blake3::hash(&std::fs::read(t.path().join(path)).expect(path))
            .to_hex()
            .to_string()
    };
    let (png, svg, html, csv) = (
        b3("a.png"),
        b3("evil.svg"),
        b3("evil.html"),
        b3("table.csv"),
    );

    // Images inline, under a sandbox; anything else only as a download.
    let r = get(&format!("/artifacts/{png}/view"));
    assert_eq!(
        (r.0, header(&r, "content-type").as_str()),
        (200, "image/png")
    );
    assert!(header(&r, "content-security-policy").contains("sandbox"));
    let r = get(&format!("/artifacts/{svg}/view"));
    assert_eq!(header(&r, "content-type"), "image/svg+xml");
    assert!(header(&r, "content-security-policy").contains("sandbox"));
    assert_eq!(get(&format!("/artifacts/{html}/view")).0, 404);
    let r = get(&format!("/artifacts/{html}"));
    assert_eq!(header(&r, "content-type"), "application/octet-stream");
    assert!(header(&r, "content-disposition").starts_with("attachment"));
    // A table's first 100 rows.
    let r = get(&format!("/artifacts/{csv}/preview"));
    let fragment = String::from_utf8_lossy(&r.2);
    assert_eq!(
        fragment.matches("<tr>").count(),
        101,
        "the header and 100 rows"
    );
    assert!(fragment.contains("the first 100 rows"));
    let (status, names) = ui.json("/api/experiments/1/artifacts");
    assert_eq!(status, 200);
    assert_eq!(
        names["names"][2],
        serde_json::json!({"name": "plot.png", "jobs": 3})
    );

    let Some(b) = browser("artifact_previews") else {
        return;
    };
    b.goto(&ui.url("/jobs/1"));
    ready(&b);
    let shown = b.js(
        "const p = (kind) => Array.from(document.querySelectorAll('.preview-body[data-kind=\"' + kind + '\"]'));
         return {
           images: p('image').map(e => e.querySelector('img').naturalWidth),
           svg: p('svg').map(e => e.querySelector('img').naturalWidth),
           text: p('text').map(e => e.querySelector('pre').textContent),
           tables: p('table').map(e => e.querySelectorAll('tbody tr').length),
           scripts: document.querySelectorAll('.preview script, .preview iframe, .preview object').length,
           pwned: localStorage.getItem('pwned'),
         };",
    );
    assert!(
        shown["images"][0].as_u64() > Some(100),
        "the PNG is drawn: {shown}"
    );
    assert!(
        shown["svg"][0].as_u64() > Some(0),
        "the SVG is an image: {shown}"
    );
    assert!(
        shown["text"][0].as_str().unwrap_or("").contains("<script>"),
        "HTML is shown as text: {shown}"
    );
    assert_eq!(shown["tables"][0], 100, "{shown}");
    assert_eq!(shown["scripts"], 0, "{shown}");
    assert_eq!(shown["pwned"], Value::Null, "{shown}");
    b.screenshot(&format!("job-previews-{}", backend_name(&backend)));

    // The gallery: plot.png of every job, then of the ticked ones.
    b.goto(&ui.url("/experiments/1"));
    ready(&b);
    assert_eq!(
        b.js("return document.querySelector('select.gallery-name').value"),
        "plot.png"
    );
    let widths = b.js(
        "return Array.from(document.querySelectorAll('.gallery-items figure.card')).map(c => [+c.dataset.job, c.querySelector('img').naturalWidth])",
    );
    let widths = widths.as_array().expect("cards").clone();
    assert_eq!(widths.len(), 3, "{widths:?}");
    assert!(
        widths.iter().all(|w| w[1].as_u64() > Some(100)),
        "{widths:?}"
    );
    tick(&b, &[1, 3]);
    b.click("input.gallery-ticked");
    b.wait_for(
        "the ticked jobs' plots",
        10,
        "Array.from(document.querySelectorAll('.gallery-items figure.card')).map(c => c.dataset.job).join() === '1,3'",
    );
    b.wait_for(
        "the images loaded",
        10,
        "Array.from(document.querySelectorAll('.gallery-items img')).every(i => i.complete && i.naturalWidth > 0)",
    );
    b.screenshot(&format!("gallery-{}", backend_name(&backend)));
    b.screenshot_of(
        "section.gallery",
        &format!("gallery-only-{}", backend_name(&backend)),
    );

    // Opened by themselves, the SVG and the HTML run nothing here either.
    b.goto(&ui.url(&format!("/artifacts/{svg}/view")));
    b.goto(&ui.url(&format!("/artifacts/{html}/preview")));
    b.goto(&ui.url("/jobs/1"));
    ready(&b);
    assert_eq!(b.js("return localStorage.getItem('pwned')"), Value::Null);
}

/// The job counts sent on `/api/experiments/1/events`, as they come,
/// until `done` holds for one of them.
fn events_until(ui: &Ui, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    use std::io::{Read, Write};
    let host = ui.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .expect("timeout");
    write!(
        stream,
        "GET /api/experiments/1/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: token {}\r\n\r\n",
        ui.token
    )
    .expect("request");
    let mut raw = String::new();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).expect("the stream stays open");
        assert!(n > 0, "the stream ended: {raw}");
        raw.push_str(&String::from_utf8_lossy(&buf[..n]));
        let events: Vec<Value> = raw
            .split("event: counts\ndata: ")
            .skip(1)
            .filter_map(|rest| rest.split('\n').next())
            .map(|data| serde_json::from_str::<Value>(data).expect("JSON data")["jobs"].clone())
            .collect();
        if events.len() > seen.len() {
            seen = events;
            if seen.last().is_some_and(&done) {
                assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
                assert!(raw.contains("text/event-stream"), "{raw}");
                return seen;
            }
        }
    }
}

/// `/api/experiments/{id}/events` sends the counts at once and then each
/// change while jobs run.
fn live_events(backend: Backend) {
    let t = TestDir::on(backend.clone());
    let yml = steps_experiment(&t, "slow", 4, 20, 2_000_000, "");
    djx_ok(&t, &["add", yml.to_str().expect("utf-8")]);
    let ui = Ui::start(&t, &[]);
    let first = events_until(&ui, |_| true);
    assert_eq!(first[0]["unassigned"], 4, "{first:?}");
    let mut run = spawn_run(&t, 1);
    let seen = events_until(&ui, |c| c["finished"] == 4);
    assert!(run.wait().expect("djx run").success());
    // Each event is a change, and the finished count only grows.
    assert!(seen.windows(2).all(|w| w[0] != w[1]), "{seen:?}");
    let finished: Vec<u64> = seen.iter().filter_map(|c| c["finished"].as_u64()).collect();
    assert!(finished.windows(2).all(|w| w[0] <= w[1]), "{finished:?}");
    assert!(seen.len() >= 2, "{seen:?}");

    // Grouped curves: one mean curve per group, over its jobs' steps.
    let (status, g) =
        ui.json("/api/experiments/1/groups/curves?by=labels.id&metric=acc&spread=minmax");
    assert_eq!(status, 200, "{g}");
    assert_eq!(g["x"], "i", "{g}");
    let groups = g["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 4, "{g}");
    let (status, one) = ui.json("/api/jobs/1/metrics?name=acc");
    assert_eq!(status, 200, "{one}");
    for p in groups[0]["points"].as_array().expect("points") {
        let step = p[0].as_f64().expect("x");
        let own = one["points"]
            .as_array()
            .expect("job's points")
            .iter()
            .find(|q| q[0].as_f64() == Some(step))
            .expect("the same step");
        // One job in the group: the mean is its value, the band is empty.
        assert_eq!(
            (p[1].clone(), p[2].clone(), p[3].clone()),
            (own[1].clone(), own[1].clone(), own[1].clone())
        );
    }
    let Some(b) = browser("live_events") else {
        return;
    };
    b.goto(&ui.url("/experiments/1?group=labels.id"));
    ready(&b);
    let bands = b.js(
        "return echarts.getInstanceByDom(document.querySelector('.chart.curve')).getOption().series.filter(s => s.areaStyle).length",
    );
    assert_eq!(bands, 4, "a band per group");
    b.screenshot_of(
        "section.curves",
        &format!("grouped-curves-{}", backend_name(&backend)),
    );
}

/// A project's experiments as one: the page (linked from the list), its
/// combined table with an `experiment` column, grouping by experiment,
/// its JSON twin, and `djx jobs --project`.
fn project_page(backend: Backend) {
    let t = TestDir::on(backend.clone());
    for (name, project) in [
        ("monday", "demo sweeps"),
        ("tuesday", "demo sweeps"),
        ("other", "x"),
    ] {
        let yml = steps_experiment(&t, name, 3, 2, 0, &format!("project: {project}"));
        djx_ok(&t, &["add", yml.to_str().expect("utf-8")]);
    }
    djx_ok(&t, &["run", "1", "2", "3"]);

    let lines = djx_ok(&t, &["jobs", "--project", "demo sweeps", "--json"]);
    let exps: Vec<i64> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("json")["experiment_id"]
                .as_i64()
                .expect("id")
        })
        .collect();
    assert_eq!(exps, [1, 1, 1, 2, 2, 2]);
    let table = djx_ok(&t, &["jobs", "--project", "demo sweeps"]);
    assert!(
        table.lines().next().unwrap_or("").contains("experiment"),
        "{table}"
    );
    assert_eq!(table.lines().count(), 7, "{table}");
    let out = run(t.djx().args(["jobs", "--project", "nope"]));
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("no experiment has the project"),
        "{}",
        stderr(&out)
    );

    let ui = Ui::start(&t, &[]);
    let (status, p) = ui.json("/api/projects/demo%20sweeps");
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["experiments"].as_array().map(Vec::len), Some(2), "{p}");
    assert_eq!(p["jobs"]["finished"], 6, "{p}");
    assert_eq!(p["dimensions"][0], "experiment", "{p}");
    let (_, rows) = ui.json("/api/projects/demo%20sweeps/jobs?filter=experiment%3D2");
    assert_eq!(rows["matched"], 3, "{rows}");
    let (_, g) = ui.json("/api/projects/demo%20sweeps/groups?by=experiment&metric=acc");
    let sizes: Vec<u64> = g["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["jobs"].as_u64())
        .collect();
    assert_eq!(sizes, [3, 3], "{g}");
    assert_eq!(ui.json("/api/projects/nope").0, 404);

    let Some(b) = browser("project_page") else {
        return;
    };
    b.goto(&format!("{}/?token={}", ui.base, ui.token));
    b.wait_for("the list", 10, "document.querySelector('a.project')");
    b.click("a.project");
    ready(&b);
    assert_eq!(
        b.js("return window.djxLive"),
        "sse",
        "a project's page is live too"
    );
    assert!(b.url().contains("/projects/demo%20sweeps"), "{}", b.url());
    assert_eq!(
        b.js("return document.querySelectorAll('table.project-experiments tbody tr').length"),
        2
    );
    assert_eq!(
        b.js("return document.querySelectorAll('table.jobs tbody tr').length"),
        6
    );
    assert_eq!(
        b.js("return Array.from(document.querySelectorAll('table.jobs tbody tr')).map(r => r.cells[document.querySelector('th[data-col=experiment]').cellIndex].textContent).join()"),
        "1,1,1,2,2,2"
    );
    b.click("input[name=group][value=\"experiment\"]");
    b.wait_for(
        "grouped by experiment",
        10,
        "document.querySelectorAll('table.grouped tbody tr').length === 2",
    );
    b.screenshot(&format!("project-{}", backend_name(&backend)));
}

on_both_stores!(
    compare_and_group_iris,
    artifact_previews,
    live_events,
    project_page,
);
