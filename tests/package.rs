//! The Debian package: `packaging/build-deb.sh` run on the debug binary,
//! then checked from the outside.
//!
//! - `dpkg-deb --info`/`-f`: the control fields (version from Cargo.toml,
//!   libc and adduser in Depends, Recommends snmpd, Section, Priority);
//! - `dpkg-deb --contents`: every file at its path, owner root/root, mode
//!   0755 for the binary and the maintainer scripts, 0644 for the rest;
//!   `DEBIAN/conffiles` lists both /etc files;
//! - `dpkg-deb -x`: the stripped binary runs, the packaged config passes
//!   `vti-agentx check-config`, the snmpd snippet makes snmpd an AgentX master
//!   whose socket the `vti-agentx` group can use at the config's address, the
//!   MIB is the repository's, every flag of `--help` is in the man page,
//!   copyright is DEP-5, the changelog has this version;
//! - the unit passes `systemd-analyze verify` (with the extracted binary and
//!   man page standing in for the installed ones) and `systemd-analyze
//!   security --offline=yes` rates it OK or better;
//! - `lintian` reports no error (E:) — tags not in the list explained in
//!   packaging/README.md fail too;
//! - a real install into a throwaway root: `dpkg --root=DIR
//!   --force-script-chrootless` runs the maintainer scripts on this host with
//!   DPKG_ROOT=DIR, exactly the path a chrootless bootstrap takes (a plain
//!   `dpkg --root` would chroot into DIR and needs a whole base system there,
//!   /bin/sh and adduser included). Install, remove and purge; the user, the
//!   unit's enablement and the conffiles are checked in DIR, and the host's
//!   user database must not change. Runs under fakeroot when not root.
//!
//! Needs dpkg-dev, binutils, lintian, systemd (for systemd-analyze), and
//! fakeroot when not run as root; a missing tool fails with the apt-get line.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_vti-agentx");
const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");
const CONFFILES: [&str; 2] = [
    "/etc/vti-agentx/config.toml",
    "/etc/snmp/snmpd.conf.d/vti-agentx.conf",
];

/// Lintian tags below error level that packaging/README.md explains.
const EXPLAINED_TAGS: &[&str] = &[
    "initial-upload-closes-no-bugs",
    "hardening-no-fortify-functions",
    "package-supports-alternative-init-but-no-init.d-script",
    // Type=notify: the postinst queues the start (systemctl --no-block).
    "maintainer-script-calls-systemctl",
    // Words lintian finds in random bytes of the binary (release builds).
    "spelling-error-in-binary",
];

/// Installed path → expected mode.
fn expected_files() -> BTreeMap<&'static str, u32> {
    BTreeMap::from([
        ("/usr/sbin/vti-agentx", 0o755),
        ("/etc/vti-agentx/config.toml", 0o644),
        ("/etc/snmp/snmpd.conf.d/vti-agentx.conf", 0o644),
        ("/usr/share/snmp/mibs/IPSEC-VTI-MIB.txt", 0o644),
        ("/lib/systemd/system/vti-agentx.service", 0o644),
        ("/usr/lib/sysusers.d/vti-agentx.conf", 0o644),
        ("/usr/libexec/vti-agentx/vyos-persist", 0o755),
        ("/usr/share/doc/vti-agentx/copyright", 0o644),
        ("/usr/share/doc/vti-agentx/changelog.Debian.gz", 0o644),
        ("/usr/share/doc/vti-agentx/README.md.gz", 0o644),
        ("/usr/share/doc/vti-agentx/README.Debian.gz", 0o644),
        ("/usr/share/man/man8/vti-agentx.8.gz", 0o644),
    ])
}

fn require(tool: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{tool}` not found: this test needs it. Install it with\n    \
         sudo apt-get install -y {package}\n(tests/run-all.sh does)"
    );
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(cmd: &mut Command) -> String {
    String::from_utf8(run(cmd).stdout).expect("UTF-8 output")
}

fn gunzip(path: &Path) -> String {
    let out = run(Command::new("gzip").arg("-dc").arg(path));
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn is_root() -> bool {
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

struct Built {
    deb: PathBuf,
    /// `dpkg-deb -x` of the package.
    tree: PathBuf,
    /// `dpkg-deb -e` (DEBIAN/) of the package.
    control: PathBuf,
}

/// Builds the package once per test run, under target/tmp/package.
fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        require("dpkg-deb", "dpkg");
        require("dpkg-shlibdeps", "dpkg-dev");
        require("strip", "binutils");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("package");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let out = run(Command::new("bash")
            .arg(Path::new(MANIFEST).join("packaging/build-deb.sh"))
            .arg("--binary")
            .arg(BIN)
            .arg("--out")
            .arg(&dir)
            .env("CARGO", env!("CARGO"))
            // The default, spelled out: the package under test is the real one.
            .env("DEB_COMPRESSION", "xz"));
        let deb = PathBuf::from(
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .last()
                .expect("build-deb.sh printed the .deb path")
                .trim(),
        );
        assert!(deb.is_file(), "{} not built", deb.display());
        let arch = stdout(Command::new("dpkg").arg("--print-architecture"));
        assert_eq!(
            deb.file_name().unwrap().to_str().unwrap(),
            format!(
                "vti-agentx_{}-1_{}.deb",
                env!("CARGO_PKG_VERSION"),
                arch.trim()
            )
        );
        let tree = dir.join("tree");
        let control = dir.join("control");
        run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&tree));
        run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control));
        Built { deb, tree, control }
    })
}

/// `path` inside the extracted tree.
fn file(path: &str) -> PathBuf {
    built().tree.join(path.trim_start_matches('/'))
}

fn field(name: &str) -> String {
    stdout(
        Command::new("dpkg-deb")
            .arg("-f")
            .arg(&built().deb)
            .arg(name),
    )
    .trim()
    .to_string()
}

#[test]
fn control_fields() {
    let b = built();
    let info = stdout(Command::new("dpkg-deb").arg("--info").arg(&b.deb));
    println!("{info}");
    assert_eq!(field("Package"), "vti-agentx");
    assert_eq!(field("Version"), format!("{}-1", env!("CARGO_PKG_VERSION")));
    assert_eq!(field("Section"), "net");
    assert_eq!(field("Priority"), "optional");
    assert_eq!(field("Recommends"), "snmpd");
    assert!(
        field("Maintainer").contains('<'),
        "Maintainer: name <address>"
    );
    let depends = field("Depends");
    for dep in ["adduser", "libc6 (>= "] {
        assert!(depends.contains(dep), "Depends: {depends} lacks {dep}");
    }
    assert!(field("Description").lines().count() > 3);
    assert!(field("Installed-Size").parse::<u64>().unwrap() > 0);

    let conffiles = fs::read_to_string(b.control.join("conffiles")).unwrap();
    let listed: Vec<&str> = conffiles.lines().collect();
    assert_eq!(listed, CONFFILES, "DEBIAN/conffiles");
    let md5sums = fs::read_to_string(b.control.join("md5sums")).unwrap();
    assert!(md5sums.contains("  usr/sbin/vti-agentx\n"), "{md5sums}");
    for conffile in CONFFILES {
        assert!(!md5sums.contains(&conffile[1..]), "conffile in md5sums");
    }
    for script in ["postinst", "prerm", "postrm"] {
        let path = b.control.join(script);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("#!/bin/sh\n"), "{script}: #!/bin/sh");
        assert!(text.contains("\nset -e\n"), "{script}: set -e");
        run(Command::new("sh").arg("-n").arg(&path));
    }
    let postinst = fs::read_to_string(b.control.join("postinst")).unwrap();
    for needle in [
        "adduser --system",
        "systemd-sysusers --root=",
        "deb-systemd-helper enable",
        "deb-systemd-invoke restart snmpd.service",
        "[ -d /run/systemd/system ]",
    ] {
        assert!(postinst.contains(needle), "postinst lacks {needle:?}");
    }
}

#[test]
fn contents_paths_modes_owners() {
    let b = built();
    let listing = stdout(Command::new("dpkg-deb").arg("--contents").arg(&b.deb));
    // -rwxr-xr-x root/root  11971000 2026-11-28 18:00 ./usr/sbin/vti-agentx
    let mut entries = BTreeMap::new();
    for line in listing.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert!(cols.len() >= 6, "odd line: {line}");
        assert_eq!(cols[1], "root/root", "owner of {line}");
        let path = cols[5].trim_start_matches('.');
        entries.insert(path.trim_end_matches('/').to_string(), cols[0].to_string());
    }
    for (path, mode) in expected_files() {
        let perms = entries
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing from the package:\n{listing}"));
        let expected = format!("-{}", rwx(mode));
        assert_eq!(perms, &expected, "mode of {path}");
    }
    for (path, perms) in &entries {
        if perms.starts_with('d') {
            assert_eq!(perms, "drwxr-xr-x", "directory {path}");
        } else {
            assert!(
                expected_files().contains_key(path.as_str()),
                "unexpected file {path} in the package"
            );
        }
    }
    // Control members (dpkg-deb -e keeps their modes).
    for (name, mode) in [
        ("control", 0o644),
        ("conffiles", 0o644),
        ("md5sums", 0o644),
        ("postinst", 0o755),
        ("prerm", 0o755),
        ("postrm", 0o755),
    ] {
        assert_eq!(mode_of(&b.control.join(name)), mode, "DEBIAN/{name}");
    }
}

fn rwx(mode: u32) -> String {
    (0..9)
        .map(|i| {
            let bit = 0o400 >> i;
            if mode & bit == 0 {
                '-'
            } else {
                ['r', 'w', 'x'][i % 3]
            }
        })
        .collect()
}

fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn binary_is_stripped_and_runs() {
    require("readelf", "binutils");
    let bin = file("/usr/sbin/vti-agentx");
    assert_eq!(mode_of(&bin), 0o755);
    let sections = stdout(Command::new("readelf").arg("-S").arg("-W").arg(&bin));
    for absent in [".symtab", ".debug_info", ".comment"] {
        assert!(
            !sections.contains(&format!(" {absent} ")),
            "{absent} left in the packaged binary"
        );
    }
    let version = stdout(Command::new(&bin).arg("--version"));
    assert_eq!(
        version.trim(),
        format!("vti-agentx {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn packaged_config_passes_check_config() {
    let config = file("/etc/vti-agentx/config.toml");
    assert_eq!(
        fs::read(&config).unwrap(),
        fs::read(Path::new(MANIFEST).join("packaging/config.toml")).unwrap()
    );
    for bin in [PathBuf::from(BIN), file("/usr/sbin/vti-agentx")] {
        let out = stdout(Command::new(bin).arg("check-config").arg(&config));
        assert!(out.trim_end().ends_with(": OK"), "{out}");
    }
}

/// The snippet's directives, comments dropped.
fn snmpd_directives() -> Vec<Vec<String>> {
    fs::read_to_string(file("/etc/snmp/snmpd.conf.d/vti-agentx.conf"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

#[test]
fn snmpd_snippet_opens_the_socket_to_our_group() {
    let directives = snmpd_directives();
    let get = |key: &str| -> Vec<String> {
        directives
            .iter()
            .find(|d| d[0] == key)
            .unwrap_or_else(|| panic!("no {key} in the snippet: {directives:?}"))
            .clone()
    };
    assert_eq!(get("master"), ["master", "agentx"]);
    // The socket snmpd listens on is the agent's default master.
    let socket = get("agentXSocket");
    assert_eq!(socket[1], vti_agentx::config::DEFAULT_MASTER);
    let config = vti_agentx::config::Config::load(file("/etc/vti-agentx/config.toml")).unwrap();
    assert_eq!(config.master, socket[1]);
    // agentXPerms SOCKPERMS [DIRPERMS [USER|UID [GROUP|GID]]]
    let perms = get("agentXPerms");
    assert_eq!(perms.len(), 5, "{perms:?}");
    let sock = u32::from_str_radix(&perms[1], 8).unwrap();
    let dir = u32::from_str_radix(&perms[2], 8).unwrap();
    assert_eq!(sock & 0o060, 0o060, "group must read+write the socket");
    assert_eq!(sock & 0o007, 0, "others must not reach the socket");
    assert_eq!(dir & 0o001, 0o001, "the directory must be traversable");
    assert_eq!(perms[4], "vti-agentx", "socket group");
    // ... which is the service's group.
    let unit = fs::read_to_string(file("/lib/systemd/system/vti-agentx.service")).unwrap();
    assert!(unit.lines().any(|l| l == "Group=vti-agentx"));
    let sysusers = fs::read_to_string(file("/usr/lib/sysusers.d/vti-agentx.conf")).unwrap();
    assert!(sysusers.lines().any(|l| l.starts_with("u vti-agentx ")));
    // Debian's snmpd.conf reads the directory (checked where snmpd is
    // installed; the package only Recommends it).
    if let Ok(stock) = fs::read_to_string("/etc/snmp/snmpd.conf") {
        assert!(
            stock
                .lines()
                .any(|l| l.trim() == "includeDir /etc/snmp/snmpd.conf.d"),
            "this snmpd.conf does not include /etc/snmp/snmpd.conf.d"
        );
    }
}

#[test]
fn mib_man_page_and_docs() {
    assert_eq!(
        fs::read(file("/usr/share/snmp/mibs/IPSEC-VTI-MIB.txt")).unwrap(),
        fs::read(Path::new(MANIFEST).join("mibs/IPSEC-VTI-MIB.txt")).unwrap()
    );

    // Every command and flag the CLI knows is in the man page.
    let man = gunzip(&file("/usr/share/man/man8/vti-agentx.8.gz"));
    let roff_plain = man.replace("\\-", "-");
    assert!(man.starts_with(".\\\"") || man.starts_with(".TH"));
    assert!(roff_plain.contains(&format!("vti-agentx {}", env!("CARGO_PKG_VERSION"))));
    assert!(
        !man.contains('@'),
        "unsubstituted placeholder in the man page"
    );
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "EXIT STATUS",
        "SIGNALS",
        "FILES",
    ] {
        assert!(man.contains(&format!(".SH {section}\n")), "no {section}");
    }
    for command in ["run", "show", "check-config", "mib"] {
        assert!(
            roff_plain.contains(command),
            "{command} not in the man page"
        );
        let help = stdout(Command::new(BIN).args([command, "--help"]));
        for flag in help
            .split_whitespace()
            .filter(|w| w.starts_with("--"))
            .map(|w| w.trim_end_matches([',', '.']))
            .map(|w| w.split('=').next().unwrap())
        {
            if flag != "--help" {
                assert!(
                    roff_plain.contains(flag),
                    "`{command} {flag}` not in the man page"
                );
            }
        }
    }
    for needle in ["SIGHUP", "SIGTERM", "/etc/vti-agentx/config.toml", ".B 2\n"] {
        assert!(
            roff_plain.contains(needle),
            "{needle:?} not in the man page"
        );
    }
    if Path::new("/usr/bin/man").exists() {
        // What lintian runs; any groff warning is printed on stderr.
        let out = run(Command::new("man")
            .args(["--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z"])
            .arg(file("/usr/share/man/man8/vti-agentx.8.gz"))
            .env("LC_ALL", "C.UTF-8")
            .env("MANWIDTH", "80"));
        assert!(
            out.stderr.is_empty(),
            "man page warnings:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let copyright = fs::read_to_string(file("/usr/share/doc/vti-agentx/copyright")).unwrap();
    assert!(copyright.starts_with(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
    ));
    assert!(copyright.contains("License: MIT or Apache-2.0\n"));
    assert!(copyright.contains("\n tokio v"), "crate list missing");
    assert!(!copyright.contains("@CRATES@"));
    let changelog = gunzip(&file("/usr/share/doc/vti-agentx/changelog.Debian.gz"));
    assert!(changelog.starts_with(&format!("vti-agentx ({}-1) ", env!("CARGO_PKG_VERSION"))));
    let readme = gunzip(&file("/usr/share/doc/vti-agentx/README.md.gz"));
    assert_eq!(
        readme,
        fs::read_to_string(Path::new(MANIFEST).join("README.md")).unwrap()
    );
}

#[test]
fn systemd_unit_verifies_and_is_hardened() {
    require("systemd-analyze", "systemd");
    let b = built();
    let unit_text = fs::read_to_string(file("/lib/systemd/system/vti-agentx.service")).unwrap();
    let keys: Vec<(&str, &str)> = unit_text
        .lines()
        .filter_map(|l| l.split_once('='))
        .collect();
    let value = |key: &str| -> Vec<&str> {
        keys.iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .collect()
    };
    assert_eq!(value("ExecStart"), ["/usr/sbin/vti-agentx run"]);
    assert_eq!(value("ExecReload"), ["/bin/kill -HUP $MAINPID"]);
    assert_eq!(value("User"), ["vti-agentx"]);
    assert_eq!(value("AmbientCapabilities"), ["CAP_NET_ADMIN"]);
    assert_eq!(value("CapabilityBoundingSet"), ["CAP_NET_ADMIN"]);
    // The agent must see the host's interfaces and SAs.
    assert!(!value("PrivateNetwork").contains(&"yes"));
    assert!(!value("PrivateUsers").contains(&"yes"));
    assert!(value("Wants").iter().any(|v| v.contains("snmpd.service")));
    assert!(value("After").iter().any(|v| v.contains("snmpd.service")));
    assert_eq!(value("Restart"), ["on-failure"]);
    // Active only once registered (READY=1), restarted when polls stop
    // (WATCHDOG=1 per poll, at least three times the 10 s default interval).
    assert_eq!(value("Type"), ["notify"]);
    assert_eq!(value("NotifyAccess"), ["main"]);
    let watchdog: u32 = value("WatchdogSec")[0]
        .parse()
        .expect("WatchdogSec in seconds");
    assert!(watchdog >= 30, "WatchdogSec={watchdog}");

    // verify: the unit as installed, but pointing at the extracted binary
    // (the host has no /usr/sbin/vti-agentx) and finding the extracted man
    // page. Unknown keys are only warnings, so any output fails.
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("vti-agentx.service");
    let bin = file("/usr/sbin/vti-agentx");
    fs::write(
        &unit,
        unit_text.replace("/usr/sbin/vti-agentx", bin.to_str().unwrap()),
    )
    .unwrap();
    let out = run(Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .env("MANPATH", b.tree.join("usr/share/man"))
        .env("SYSTEMD_LOG_COLOR", "0"));
    let noise = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(noise.trim().is_empty(), "systemd-analyze verify:\n{noise}");

    let out = run(Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(file("/lib/systemd/system/vti-agentx.service")));
    let text = String::from_utf8_lossy(&out.stdout);
    let summary = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("no summary:\n{text}"));
    println!("{summary}");
    let exposure: f64 = summary
        .split(':')
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("cannot parse {summary:?}"));
    // systemd: < 2.0 is "OK"; the unit is held to 1.5 (packaging/README.md
    // records the value).
    assert!(exposure <= 1.5, "exposure {exposure} is above 1.5:\n{text}");
}

#[test]
fn lintian_reports_no_errors() {
    require("lintian", "lintian");
    let b = built();
    let out = Command::new("lintian")
        .args([
            "--display-info",
            "--display-experimental",
            "--pedantic",
            "--show-overrides",
        ])
        .arg(&b.deb)
        .output()
        .expect("running lintian");
    let text = String::from_utf8_lossy(&out.stdout);
    println!("lintian:\n{text}{}", String::from_utf8_lossy(&out.stderr));
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("E:")).collect();
    assert!(errors.is_empty(), "lintian errors:\n{}", errors.join("\n"));
    // Anything else must be one of the tags packaging/README.md explains.
    for line in text
        .lines()
        .filter(|l| l.len() > 3 && "EWIPXOC".contains(&l[..1]) && l[1..].starts_with(": "))
    {
        let tag = line.split_whitespace().nth(2).unwrap_or("");
        assert!(
            EXPLAINED_TAGS.contains(&tag),
            "lintian tag not explained in packaging/README.md: {line}"
        );
    }
    // lintian exits non-zero on errors only (or when it could not run).
    assert!(
        out.status.success(),
        "lintian failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `dpkg --root=ROOT --force-script-chrootless ACTION...`, under fakeroot
/// when we are not root.
fn dpkg_in(root: &Path, args: &[&str]) -> Output {
    let mut cmd = if is_root() {
        Command::new("dpkg")
    } else {
        require("fakeroot", "fakeroot");
        let mut c = Command::new("fakeroot");
        c.arg("dpkg");
        c
    };
    cmd.arg(format!("--root={}", root.display()))
        // Not the host's /var/log/dpkg.log.
        .arg(format!("--log={}", root.join("var/log/dpkg.log").display()))
        .args([
            "--force-not-root",
            "--force-script-chrootless",
            "--force-depends",
            "--force-unsafe-io",
        ])
        .args(args)
        // deb-systemd-helper and deb-systemd-invoke must not see a
        // policy-rc.d or state of the host.
        .env_remove("DPKG_ROOT");
    run(&mut cmd)
}

fn host_user_db() -> (String, String) {
    (
        fs::read_to_string("/etc/passwd").unwrap_or_default(),
        fs::read_to_string("/etc/group").unwrap_or_default(),
    )
}

#[test]
fn installs_removes_and_purges_in_a_throwaway_root() {
    require("dpkg", "dpkg");
    require("deb-systemd-helper", "init-system-helpers");
    require("systemd-sysusers", "systemd");
    let b = built();
    let host_before = host_user_db();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for d in [
        "var/lib/dpkg/info",
        "var/lib/dpkg/updates",
        "var/log",
        "etc",
    ] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
    // An /var/agentx as a 0700-mode snmpd leaves it: postinst adds o+x.
    fs::create_dir_all(root.join("var/agentx")).unwrap();
    fs::set_permissions(
        root.join("var/agentx"),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();

    let out = dpkg_in(root, &["--install", b.deb.to_str().unwrap()]);
    println!("{}", String::from_utf8_lossy(&out.stdout));
    let status = fs::read_to_string(root.join("var/lib/dpkg/status")).unwrap();
    assert!(status.contains("Status: install ok installed"), "{status}");
    for path in expected_files().keys() {
        assert!(root.join(&path[1..]).is_file(), "{path} not installed");
    }
    let passwd = fs::read_to_string(root.join("etc/passwd")).expect("postinst created the user");
    assert!(
        passwd.lines().any(|l| l.starts_with("vti-agentx:")
            && l.ends_with(":/nonexistent:/usr/sbin/nologin")),
        "{passwd}"
    );
    let group = fs::read_to_string(root.join("etc/group")).unwrap();
    assert!(
        group.lines().any(|l| l.starts_with("vti-agentx:")),
        "{group}"
    );
    let wants = root.join("etc/systemd/system/multi-user.target.wants/vti-agentx.service");
    assert_eq!(
        fs::read_link(&wants).expect("unit enabled"),
        Path::new("/lib/systemd/system/vti-agentx.service")
    );
    assert_eq!(mode_of(&root.join("var/agentx")), 0o701);
    assert_eq!(host_user_db(), host_before, "the host's users changed");

    // A conffile edit survives removal; purge deletes it.
    let config = root.join("etc/vti-agentx/config.toml");
    let mut text = fs::read_to_string(&config).unwrap();
    text.push_str("poll_interval_secs = 30\n");
    fs::write(&config, &text).unwrap();
    dpkg_in(root, &["--remove", "vti-agentx"]);
    assert!(!root.join("usr/sbin/vti-agentx").exists());
    assert_eq!(fs::read_to_string(&config).unwrap(), text);
    for conffile in CONFFILES {
        assert!(root.join(&conffile[1..]).is_file(), "{conffile} removed");
    }
    dpkg_in(root, &["--purge", "vti-agentx"]);
    for conffile in CONFFILES {
        assert!(!root.join(&conffile[1..]).exists(), "{conffile} not purged");
    }
    assert!(!root.join("etc/vti-agentx").exists());
    assert!(
        fs::symlink_metadata(&wants).is_err(),
        "enablement symlink left after purge"
    );
    let status = fs::read_to_string(root.join("var/lib/dpkg/status")).unwrap();
    assert!(!status.contains("Package: vti-agentx"), "{status}");
    assert_eq!(host_user_db(), host_before, "the host's users changed");
}

#[test]
fn build_is_reproducible() {
    // Same binary, same inputs → byte-identical .deb (SOURCE_DATE_EPOCH
    // from the changelog). Guards against stray timestamps and ordering.
    let b = built();
    let dir = tempfile::tempdir().unwrap();
    let out = run(Command::new("bash")
        .arg(Path::new(MANIFEST).join("packaging/build-deb.sh"))
        .arg("--binary")
        .arg(BIN)
        .arg("--out")
        .arg(dir.path())
        .env("CARGO", env!("CARGO"))
        .env("DEB_COMPRESSION", "xz"));
    let again = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let mut first = Vec::new();
    fs::File::open(&b.deb)
        .unwrap()
        .read_to_end(&mut first)
        .unwrap();
    assert!(
        fs::read(&again).unwrap() == first,
        "two builds of the same binary differ"
    );
}

/// The postinst's `snippet_included` (between its BEGIN/END markers), run by
/// /bin/sh against `snmpd_conf` written to a file.
fn snippet_included(snmpd_conf: Option<&str>) -> bool {
    let postinst =
        fs::read_to_string(Path::new(MANIFEST).join("packaging/debian/postinst")).unwrap();
    let function = postinst
        .split_once("# BEGIN snippet_included\n")
        .and_then(|(_, rest)| rest.split_once("# END snippet_included\n"))
        .expect("postinst marks snippet_included")
        .0;
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("snmpd.conf");
    if let Some(text) = snmpd_conf {
        fs::write(&conf, text).unwrap();
    }
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{function}\nsnippet_included \"$1\""))
        .arg("sh")
        .arg(&conf)
        .status()
        .unwrap();
    status.success()
}

/// The postinst restarts snmpd only when its snmpd.conf reads our snippet:
/// Debian's (includeDir) does, VyOS's rendered one does not, and a restart
/// there would only interrupt SNMP on every install.
#[test]
fn postinst_restarts_snmpd_only_when_it_reads_the_snippet() {
    assert!(snippet_included(Some(
        "master agentx\nincludeDir /etc/snmp/snmpd.conf.d\n"
    )));
    assert!(snippet_included(Some(
        "  includeDir   /etc/snmp/snmpd.conf.d/  \n"
    )));
    assert!(snippet_included(Some(
        "includeFile /etc/snmp/snmpd.conf.d/vti-agentx.conf\n"
    )));
    // VyOS 1.4+ (data/templates/snmp/etc.snmpd.conf.j2): no include at all.
    assert!(!snippet_included(Some(
        "master agentx\nagentXPerms 0777 0777\nview RESTRICTED included .1 80\n"
    )));
    assert!(!snippet_included(Some(
        "# includeDir /etc/snmp/snmpd.conf.d\n"
    )));
    assert!(!snippet_included(Some("includeDir /etc/snmp/other.d\n")));
    assert!(!snippet_included(Some(
        "includeFile /etc/snmp/snmpd.conf.d/other.conf\n"
    )));
    assert!(!snippet_included(None));
}

/// `usr/libexec/vti-agentx/vyos-persist ARGS` of the package, with VyOS's
/// /config at `config` and the image's root at `root`.
fn vyos_persist(root: &Path, config: &Path, args: &[&str]) -> Output {
    run(Command::new(file("/usr/libexec/vti-agentx/vyos-persist"))
        .args(args)
        .env("ROOT", root)
        .env("CONFIG_DIR", config)
        .env_remove("DPKG_ROOT"))
}

/// An image upgrade on VyOS, by its rules: only /config is carried over, and
/// the post-config boot script runs on the new image. The package installed
/// and kept (`save`) on one image is installed again on a fresh one by the
/// boot script's `restore`, with the operator's config from /config.
#[test]
fn vyos_image_upgrade_keeps_package_and_config() {
    require("dpkg", "dpkg");
    require("deb-systemd-helper", "init-system-helpers");
    require("systemd-sysusers", "systemd");
    let b = built();
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config");
    let image = |name: &str| {
        let root = tmp.path().join(name);
        for d in [
            "var/lib/dpkg/info",
            "var/lib/dpkg/updates",
            "var/log",
            "etc",
        ] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
        root
    };
    let old = image("old");
    dpkg_in(&old, &["--install", b.deb.to_str().unwrap()]);
    // Twice: the boot script gets the line once.
    for _ in 0..2 {
        vyos_persist(&old, &config, &["save", b.deb.to_str().unwrap()]);
    }
    let kept = config.join("vti-agentx");
    let boot = fs::read_to_string(config.join("scripts/vyos-postconfig-bootup.script")).unwrap();
    let restore_lines: Vec<&str> = boot.lines().filter(|l| l.contains("restore")).collect();
    assert_eq!(restore_lines.len(), 1, "{boot}");
    assert!(boot.starts_with("#!/bin/sh\n"));
    assert_eq!(
        fs::read_to_string(kept.join("config.toml")).unwrap(),
        fs::read_to_string(file("/etc/vti-agentx/config.toml")).unwrap()
    );
    assert_eq!(
        fs::read_link(old.join("etc/vti-agentx/config.toml")).unwrap(),
        kept.join("config.toml")
    );
    let mut edited = fs::read_to_string(kept.join("config.toml")).unwrap();
    edited.push_str("poll_interval_secs = 30\n");
    fs::write(kept.join("config.toml"), &edited).unwrap();

    // The new image: nothing of the old root, /config carried over. What the
    // boot script's line runs:
    let new = image("new");
    let line = restore_lines[0];
    let out = run(Command::new("sh")
        .arg("-c")
        .arg(line)
        .env("ROOT", &new)
        .env("CONFIG_DIR", &config)
        .env_remove("DPKG_ROOT"));
    println!("{}", String::from_utf8_lossy(&out.stdout));
    let status = fs::read_to_string(new.join("var/lib/dpkg/status")).unwrap();
    assert!(status.contains("Status: install ok installed"), "{status}");
    assert!(new.join("usr/sbin/vti-agentx").is_file());
    assert_eq!(
        fs::read_to_string(new.join("etc/vti-agentx/config.toml")).unwrap(),
        edited
    );
    assert_eq!(
        fs::read_link(new.join("etc/systemd/system/multi-user.target.wants/vti-agentx.service"))
            .expect("unit enabled on the new image"),
        Path::new("/lib/systemd/system/vti-agentx.service")
    );
    // The next boot of the same image: already installed, nothing reinstalled.
    let log_before = fs::read_to_string(new.join("var/log/dpkg.log")).unwrap();
    vyos_persist(&new, &config, &["restore"]);
    assert_eq!(
        fs::read_to_string(new.join("var/log/dpkg.log")).unwrap(),
        log_before
    );
}
