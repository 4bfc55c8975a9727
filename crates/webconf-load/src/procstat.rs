//! The server's CPU time and memory, read from `/proc/<pid>/stat` and `/proc/<pid>/status`
//! (Linux). Only meaningful when the server runs on this machine.

use std::path::PathBuf;
use std::time::Duration;

/// Kernel clock ticks per second in `/proc/<pid>/stat` (`USER_HZ`): 100 on every Linux ABI
/// this runs on (x86, arm); `sysconf(_SC_CLK_TCK)` would need libc for a constant.
const USER_HZ: u64 = 100;

/// Why a process could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    /// The files could not be read (no such process, not Linux).
    #[error("cannot read /proc/{pid}: {source}")]
    Io {
        /// The process.
        pid: u32,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The files did not have the expected shape.
    #[error("unexpected format of /proc/{pid}/{file}")]
    Format {
        /// The process.
        pid: u32,
        /// `stat` or `status`.
        file: &'static str,
    },
}

/// One reading of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ProcSample {
    /// User + system CPU time used since the process started.
    pub cpu: Duration,
    /// Resident memory now, KiB (`VmRSS`).
    pub rss_kib: u64,
    /// Highest resident memory so far, KiB (`VmHWM`).
    pub peak_rss_kib: u64,
    /// Resident anonymous memory now, KiB (`RssAnon`): the heap and stacks, without the pages
    /// of the binary and libraries that the run touches for the first time (those are shared
    /// and paid once, not per participant).
    pub anon_kib: u64,
}

/// Reads process `pid` now.
pub fn sample(pid: u32) -> Result<ProcSample, ProcError> {
    let dir = PathBuf::from(format!("/proc/{pid}"));
    let read = |f: &str| {
        std::fs::read_to_string(dir.join(f)).map_err(|source| ProcError::Io { pid, source })
    };
    let cpu = parse_stat_cpu(&read("stat")?).ok_or(ProcError::Format { pid, file: "stat" })?;
    let status = read("status")?;
    let format = ProcError::Format {
        pid,
        file: "status",
    };
    let (rss_kib, peak_rss_kib) = parse_status_rss(&status).ok_or(format)?;
    Ok(ProcSample {
        cpu,
        rss_kib,
        peak_rss_kib,
        anon_kib: status_field(&status, "RssAnon:").unwrap_or(rss_kib),
    })
}

/// `utime + stime` from the text of `/proc/<pid>/stat`. The command name (field 2) is in
/// parentheses and may hold spaces and parentheses, so fields are counted after the last `)`.
pub fn parse_stat_cpu(stat: &str) -> Option<Duration> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (field 14) is index 11 and stime index 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let ticks = utime + stime;
    Some(Duration::from_micros(ticks * 1_000_000 / USER_HZ))
}

/// `VmRSS` and `VmHWM`, in KiB, from the text of `/proc/<pid>/status`.
pub fn parse_status_rss(status: &str) -> Option<(u64, u64)> {
    let rss = status_field(status, "VmRSS:")?;
    let peak = status_field(status, "VmHWM:").unwrap_or(rss);
    Some((rss, peak))
}

/// The number of a `Name:\t 123 kB` line of `/proc/<pid>/status`.
pub fn status_field(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "4242 (webconf (x) y) S 1 4242 4242 0 -1 4194560 2771 0 0 0 1234 567 0 0 20 0 9 0 \
                        123456 1075838976 11850 18446744073709551615 1 1 0 0 0 0 0 4096 17990 0 0 0 17 1 0 0 0 0 0";

    const STATUS: &str = "Name:\twebconf\nUmask:\t0022\nState:\tS (sleeping)\nVmPeak:\t 1050624 kB\n\
                          VmSize:\t 1050620 kB\nVmHWM:\t   52340 kB\nVmRSS:\t   47400 kB\nThreads:\t9\n";

    #[test]
    fn stat_gives_user_plus_system_time() {
        // 1234 + 567 ticks at 100 Hz.
        assert_eq!(parse_stat_cpu(STAT), Some(Duration::from_millis(18_010)));
    }

    #[test]
    fn status_gives_rss_and_peak() {
        assert_eq!(parse_status_rss(STATUS), Some((47_400, 52_340)));
        assert_eq!(parse_status_rss("VmRSS:\t 10 kB\n"), Some((10, 10)));
    }

    #[test]
    fn malformed_files_are_refused() {
        assert_eq!(parse_stat_cpu("4242 (webconf) S 1 2"), None);
        assert_eq!(parse_stat_cpu("no parenthesis"), None);
        assert_eq!(parse_status_rss("Name:\twebconf\n"), None);
        assert_eq!(parse_status_rss("VmRSS:\tlots kB\n"), None);
    }

    #[test]
    fn reads_this_process() {
        let s = sample(std::process::id()).expect("own /proc entry");
        assert!(s.rss_kib > 0 && s.peak_rss_kib >= s.rss_kib);
        assert!(s.anon_kib > 0 && s.anon_kib <= s.rss_kib, "{s:?}");
        assert!(matches!(sample(u32::MAX), Err(ProcError::Io { .. })));
    }
}
