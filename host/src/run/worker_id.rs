//! Worker identities: `host:pid:start`, where `start` is the process's start
//! time in clock ticks since boot (from `/proc/<pid>/stat`).
//!
//! On the same host, a lease owner whose process is gone (or whose pid now
//! belongs to a process that started at another time) is dead: its jobs can
//! be reclaimed at once instead of after the lease expires.

/// This process's worker identity.
pub fn this_worker() -> String {
    let pid = std::process::id();
    format!("{}:{pid}:{}", hostname(), start_time(pid).unwrap_or(0))
}

/// This machine's name.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// The start time of process `pid`, or `None` if there is no such process.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; fields after its closing
    // parenthesis are plain. starttime is field 22, the 20th after it.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Whether `owner` is a worker on this host whose process is gone.
pub fn is_dead_local(owner: &str) -> bool {
    let mut parts = owner.rsplitn(3, ':');
    let (Some(start), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    if host != hostname() {
        return false;
    }
    let (Ok(pid), Ok(start)) = (pid.parse::<u32>(), start.parse::<u64>()) else {
        return false;
    };
    start_time(pid) != Some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_finished_one_is_dead() {
        let me = this_worker();
        assert!(!is_dead_local(&me), "{me}");
        let child = std::process::Command::new("true").spawn().expect("spawn");
        let pid = child.id();
        let start = start_time(pid);
        let mut child = child;
        child.wait().expect("wait");
        let owner = format!("{}:{pid}:{}", hostname(), start.unwrap_or(1));
        assert!(is_dead_local(&owner), "{owner}");
        assert!(
            !is_dead_local("some-other-host:1:1"),
            "other hosts are never judged"
        );
    }
}
