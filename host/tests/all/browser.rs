//! A real browser for the UI tests (and the UI benchmarks, which include
//! this file): headless Chromium from Debian's `chromium` package, driven
//! through `chromedriver`, spoken to in plain WebDriver (JSON over HTTP, the
//! W3C protocol) with the small HTTP client below: a WebDriver crate would
//! bring an async HTTP client stack and enable features that force a second
//! build of the host's dependencies (BENCHMARKS.md, build costs). One
//! chromedriver and one browser session serve the whole test binary
//! (starting Chromium is slow); tests take turns on it. The same HTTP client
//! serves the tests that need status codes and headers a browser hides.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Where a program is: `$var`, else the first of `names` on the PATH.
fn program(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// The shared browser session.
pub struct Browser {
    driver_port: u16,
    session: String,
}

/// The browser, for one test at a time.
pub struct Session {
    guard: MutexGuard<'static, ()>,
    browser: &'static Browser,
}

static BROWSER: OnceLock<Result<Browser, String>> = OnceLock::new();
static TURN: Mutex<()> = Mutex::new(());
/// What the exit handler needs to close the browser and stop the driver.
static CLEANUP: OnceLock<(u16, String, u32)> = OnceLock::new();

/// Whether the browser tests must run (CI) rather than skip.
fn required() -> bool {
    std::env::var_os("CI").is_some()
}

/// The browser, or `None` with a loud message when Chromium or chromedriver
/// is missing outside CI. In CI a missing browser fails the test.
pub fn browser(test: &str) -> Option<Session> {
    let browser = BROWSER.get_or_init(start);
    match browser {
        Ok(browser) => Some(Session {
            guard: TURN.lock().unwrap_or_else(|e| e.into_inner()),
            browser,
        }),
        Err(why) if required() => panic!("{test}: no browser: {why}"),
        Err(why) => {
            eprintln!(
                "SKIPPED {test}: no browser ({why}); install Debian's chromium and chromium-driver (`.ci/run` does)"
            );
            None
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Spawns chromedriver from a thread that lives as long as the process,
/// with a parent-death signal, so the driver never outlives the tests.
fn spawn_driver(driver: PathBuf, port: u16) -> Result<Child, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut cmd = Command::new(&driver);
        cmd.arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: prctl is async-signal-safe and touches no memory of ours.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let _ = tx.send(
            cmd.spawn()
                .map_err(|e| format!("starting {}: {e}", driver.display())),
        );
        // The parent-death signal follows this thread: keep it.
        loop {
            std::thread::park();
        }
    });
    rx.recv().map_err(|e| e.to_string())?
}

fn start() -> Result<Browser, String> {
    let driver =
        program("DJX_CHROMEDRIVER", &["chromedriver"]).ok_or("chromedriver is not on the PATH")?;
    let chromium = program(
        "DJX_CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    )
    .ok_or("chromium is not on the PATH")?;
    let port = free_port();
    let child = spawn_driver(driver, port)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err("chromedriver did not start listening".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let caps = json!({
        "capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--hide-scrollbars",
                // Nothing but this machine: a page that reached out would fail.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            ],
        }}}
    });
    let session = webdriver(port, "POST", "/session", Some(&caps))
        .map_err(|e| format!("a WebDriver session: {e}"))?["sessionId"]
        .as_str()
        .ok_or("no session id")?
        .to_owned();
    let _ = CLEANUP.set((port, session.clone(), child.id()));
    // SAFETY: registering a plain function to run at exit.
    unsafe {
        libc::atexit(close_at_exit);
    }
    Ok(Browser {
        driver_port: port,
        session,
    })
}

/// One WebDriver command: the `value` of its answer, or the driver's error.
fn webdriver(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let url = format!("http://127.0.0.1:{port}{path}");
    let body = body.map(Value::to_string);
    let (status, _, answer) =
        request(method, &url, &[], body.as_deref()).map_err(|e| e.to_string())?;
    let answer: Value = serde_json::from_slice(&answer)
        .map_err(|e| format!("{method} {path}: not JSON ({e}), status {status}"))?;
    let value = answer.get("value").cloned().unwrap_or(Value::Null);
    if status == 200 {
        Ok(value)
    } else {
        Err(format!(
            "{method} {path}: {status} {}: {}",
            value["error"].as_str().unwrap_or("?"),
            value["message"].as_str().unwrap_or("")
        ))
    }
}

/// At exit: ends the session (which closes Chromium) and the driver.
extern "C" fn close_at_exit() {
    if let Some((port, session, pid)) = CLEANUP.get() {
        let _ = request(
            "DELETE",
            &format!("http://127.0.0.1:{port}/session/{session}"),
            &[],
            None,
        );
        // SAFETY: signalling our own child process.
        unsafe {
            libc::kill(*pid as libc::pid_t, libc::SIGTERM);
        }
    }
}

impl Browser {
    /// A command of this browser's session (`path` below `/session/{id}`).
    fn command(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let path = format!("/session/{}{path}", self.session);
        webdriver(self.driver_port, method, &path, body)
    }
}

impl Session {
    /// Opens `url` and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.browser
            .command("POST", "/url", Some(&json!({ "url": url })))
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// The value of a script's `return`.
    pub fn js(&self, script: &str) -> Value {
        let body = json!({ "script": script, "args": [] });
        self.browser
            .command("POST", "/execute/sync", Some(&body))
            .unwrap_or_else(|e| panic!("running {script:?}: {e}"))
    }

    /// The value an async script passes to its callback (the last
    /// argument, `arguments[arguments.length - 1]`).
    pub fn js_async(&self, script: &str) -> Value {
        let body = json!({ "script": script, "args": [] });
        self.browser
            .command("POST", "/execute/async", Some(&body))
            .unwrap_or_else(|e| panic!("running {script:?}: {e}"))
    }

    /// Polls `condition` (a script expression) until it is true; fails,
    /// naming `what`, after `seconds`.
    #[track_caller]
    pub fn wait_for(&self, what: &str, seconds: u64, condition: &str) {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let script = format!("return !!({condition});");
        while self.js(&script) != Value::Bool(true) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} ({condition}); the page says:\n{}",
                self.js("return document.body ? document.body.innerText.slice(0, 2000) : ''")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The page's URL.
    pub fn url(&self) -> String {
        self.browser
            .command("GET", "/url", None)
            .ok()
            .and_then(|u| u.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Clicks the first element matching `css`.
    pub fn click(&self, css: &str) {
        let find = json!({ "using": "css selector", "value": css });
        self.browser
            .command("POST", "/element", Some(&find))
            .and_then(|found| {
                let id = found[ELEMENT].as_str().ok_or("no element reference")?;
                let click = format!("/element/{id}/click");
                self.browser.command("POST", &click, Some(&json!({})))
            })
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    fn window_size(&self, width: u32, height: u32) -> Result<Value, String> {
        let rect = json!({ "width": width, "height": height });
        self.browser.command("POST", "/window/rect", Some(&rect))
    }

    /// Saves a PNG of the page as `name.png` under
    /// `target/ui-screenshots/`; returns the path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        // The whole page: the window grows to its height, then shrinks back.
        let height = self
            .js("return document.documentElement.scrollHeight")
            .as_u64()
            .unwrap_or(1000)
            .clamp(600, 4000) as u32;
        self.window_size(1400, height)
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        // Let the charts redraw at the new size.
        self.js_async(
            "const done = arguments[arguments.length - 1];
             requestAnimationFrame(() => requestAnimationFrame(() => done(1)));",
        );
        let png = self.browser.command("GET", "/screenshot", None);
        let _ = self.window_size(1400, 1000);
        save_png(name, png)
    }

    /// Saves a PNG of the first element matching `css` (scrolled into
    /// view) as `name.png` beside the page screenshots.
    pub fn screenshot_of(&self, css: &str, name: &str) -> PathBuf {
        let find = json!({ "using": "css selector", "value": css });
        let png = self
            .browser
            .command("POST", "/element", Some(&find))
            .and_then(|found| {
                let id = found[ELEMENT].as_str().ok_or("no element reference")?;
                self.browser
                    .command("GET", &format!("/element/{id}/screenshot"), None)
            });
        save_png(name, png)
    }

    /// Turns the browser's network off (`true`) or on again, through
    /// chromedriver's network conditions.
    pub fn offline(&self, offline: bool) {
        let url = format!(
            "http://127.0.0.1:{}/session/{}/chromium/network_conditions",
            self.browser.driver_port, self.browser.session
        );
        let (status, _, body) = if offline {
            let conditions = json!({"network_conditions": {"offline": true, "latency": 0,
                "download_throughput": 0, "upload_throughput": 0}});
            http("POST", &url, &[], Some(&conditions.to_string()))
        } else {
            http("DELETE", &url, &[], None)
        };
        assert_eq!(
            status,
            200,
            "network conditions: {}",
            String::from_utf8_lossy(&body)
        );
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Leave the next test a blank page and the network on.
        let _ = request(
            "DELETE",
            &format!(
                "http://127.0.0.1:{}/session/{}/chromium/network_conditions",
                self.browser.driver_port, self.browser.session
            ),
            &[],
            None,
        );
        let _ = self
            .browser
            .command("POST", "/url", Some(&json!({ "url": "about:blank" })));
    }
}

/// The W3C name of an element reference in a command's answer.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Writes a screenshot command's answer (base64 PNG) as `name.png` under
/// [`screenshot_dir`].
fn save_png(name: &str, answer: Result<Value, String>) -> PathBuf {
    let png = answer
        .and_then(|b64| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(b64.as_str().unwrap_or_default())
                .map_err(|e| e.to_string())
        })
        .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write screenshot");
    path
}

/// Where screenshots go: `<target dir>/ui-screenshots`.
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("ui-screenshots")
}

/// A response: status, headers (names lowercase), body.
pub type Response = (u16, Vec<(String, String)>, Vec<u8>);

/// A plain HTTP/1.1 request to a server on this machine: status, headers
/// (names lowercase) and body. Panics on a transport error.
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Response {
    request(method, url, headers, body).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// [`http`], with transport errors returned.
pub fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<Response> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| bad("not an http URL"))?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    head.push_str(body);
    stream.write_all(head.as_bytes())?;
    // Read the head, then exactly the body it announces (a server may keep
    // the connection open after it).
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 << 10];
    let split = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(bad("the connection closed before the response head"));
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let text = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = text.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut body = raw[split + 4..].to_vec();
    let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
    let length: Option<usize> = header("content-length").and_then(|v| v.parse().ok());
    loop {
        let done = match length {
            Some(n) => body.len() >= n,
            None if chunked => body.windows(5).any(|w| w == b"0\r\n\r\n"),
            None => false,
        };
        if done || method == "HEAD" {
            break;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    if chunked {
        body = unchunk(&body);
    }
    Ok((status, headers, body))
}

fn unchunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..end])
                .split(';')
                .next()
                .unwrap_or("0")
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

/// A GET returning status and body as JSON (`Value::Null` if not JSON).
pub fn get_json(url: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let (status, _, body) = http("GET", url, headers, None);
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}
