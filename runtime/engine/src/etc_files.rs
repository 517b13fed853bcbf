//! The name-resolution files a container gets, written as dockerd (20.10, libnetwork) writes
//! them into the container's folder (`<data_root>/containers/<id>/hostname|hosts|resolv.conf`)
//! and bind-mounted over its `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf`:
//!
//! - `hostname`: the host name and a newline;
//! - `hosts`: Docker's loopback and IPv6 lines, the `ExtraHosts` entries, then the
//!   container's addresses with its names; with the host's network, a copy of the host's
//!   `/etc/hosts` (unless there are extra hosts);
//! - `resolv.conf`: the host's, without localhost name servers (and without IPv6 ones when the
//!   network has no IPv6), Google's public servers when none is left; or one built from `Dns`,
//!   `DnsSearch` and `DnsOptions` when any is set; with the host's network, a copy of the
//!   host's.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use oci_spec::runtime::Mount;
use regex::Regex;

use crate::durable;
use crate::error::{Error, Result};
use crate::mounts::{MountPlan, Propagation, bind_mount};

/// What the files are written from (the engine's view of `Config.Hostname`, `Domainname`,
/// `HostConfig.ExtraHosts`, `Dns*`, the network mode and the container's addresses).
#[derive(Clone, Debug, Default)]
pub struct EtcSettings {
    /// The host name.
    pub hostname: String,
    /// The domain name, if any.
    pub domainname: String,
    /// The container's addresses on its network (its first IPv4, then its first IPv6), each
    /// written into `hosts` with its names.
    pub addresses: Vec<IpAddr>,
    /// `ExtraHosts`: `name:ip` (`name:host-gateway` for [`EtcSettings::host_gateway`]).
    pub extra_hosts: Vec<String>,
    /// The address `host-gateway` stands for (the default bridge's gateway), if known.
    pub host_gateway: Option<IpAddr>,
    /// `Dns`: name servers instead of the host's.
    pub dns: Vec<String>,
    /// `DnsSearch`: search domains instead of the host's (`.` for none).
    pub dns_search: Vec<String>,
    /// `DnsOptions`: resolver options instead of the host's.
    pub dns_options: Vec<String>,
    /// Whether the container shares the host's network (`--network host`).
    pub host_network: bool,
    /// Whether the container's network has IPv6 (IPv6 name servers are dropped otherwise).
    pub ipv6: bool,
}

/// The host's files the container's are made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostFiles {
    /// The host's hosts file, `/etc/hosts`.
    pub hosts: PathBuf,
    /// The host's resolver configuration, `/etc/resolv.conf`.
    pub resolv_conf: PathBuf,
    /// What systemd-resolved writes, read instead of `resolv_conf` (outside the host's
    /// network) when `resolv_conf`'s only name server is systemd-resolved's stub, `127.0.0.53`.
    pub systemd_resolv_conf: PathBuf,
}

impl HostFiles {
    /// The machine's own files.
    pub fn system() -> HostFiles {
        HostFiles {
            hosts: PathBuf::from("/etc/hosts"),
            resolv_conf: PathBuf::from("/etc/resolv.conf"),
            systemd_resolv_conf: PathBuf::from("/run/systemd/resolve/resolv.conf"),
        }
    }
}

/// Where a container's files are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EtcFiles {
    /// Its `hostname`.
    pub hostname: PathBuf,
    /// Its `hosts`.
    pub hosts: PathBuf,
    /// Its `resolv.conf`.
    pub resolv_conf: PathBuf,
}

impl EtcFiles {
    /// The files in the container's folder `dir` (`<data_root>/containers/<id>`).
    pub fn in_dir(dir: &Path) -> EtcFiles {
        EtcFiles {
            hostname: dir.join("hostname"),
            hosts: dir.join("hosts"),
            resolv_conf: dir.join("resolv.conf"),
        }
    }

    /// Writes the three files (mode 0644, each atomically), before the container starts.
    /// With the host's network and no extra hosts, a missing host `/etc/hosts` leaves the
    /// container without a `hosts` file, as Docker does.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHostConfig`] for a malformed extra host (Docker's `bad format for
    /// add-host`, `invalid IP address in add-host`); I/O errors.
    pub fn write(&self, settings: &EtcSettings, host: &HostFiles) -> Result<()> {
        if let Some(dir) = self.hostname.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        }
        write_file(
            &self.hostname,
            format!("{}\n", settings.hostname).as_bytes(),
        )?;
        if settings.host_network && settings.extra_hosts.is_empty() {
            match fs::read(&host.hosts) {
                Ok(bytes) => write_file(&self.hosts, &bytes)?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => remove_file(&self.hosts)?,
                Err(e) => return Err(Error::io("read", &host.hosts, e)),
            }
        } else {
            write_file(&self.hosts, hosts_content(settings)?.as_bytes())?;
        }
        let custom_dns = !settings.dns.is_empty()
            || !settings.dns_search.is_empty()
            || !settings.dns_options.is_empty();
        let origin = if settings.host_network {
            host.resolv_conf.clone()
        } else {
            host_resolv_conf_path(host)
        };
        let host_resolv = match fs::read(&origin) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("read", &origin, e)),
        };
        let resolv = if settings.host_network && !custom_dns {
            host_resolv.unwrap_or_default()
        } else {
            resolv_conf_content(host_resolv.as_deref().unwrap_or(""), settings)
        };
        write_file(&self.resolv_conf, resolv.as_bytes())
    }

    /// The bind mounts of the files that exist, in Docker's order (`resolv.conf`, `hostname`,
    /// `hosts`), to go after the plan's mounts: `rbind`, `rprivate`, read-only with a
    /// read-only root. A file whose path the plan mounts something else at is left out.
    pub fn oci_mounts(&self, plan: &MountPlan, readonly_rootfs: bool) -> Result<Vec<Mount>> {
        let mut mounts = Vec::new();
        for (destination, path) in [
            ("/etc/resolv.conf", &self.resolv_conf),
            ("/etc/hostname", &self.hostname),
            ("/etc/hosts", &self.hosts),
        ] {
            if plan.has_mount_for(destination) || !path.exists() {
                continue;
            }
            mounts.push(bind_mount(
                destination,
                path,
                !readonly_rootfs,
                Some(Propagation::Rprivate),
            )?);
        }
        Ok(mounts)
    }
}

/// Writes a file atomically with mode 0644.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    durable::write_atomically(path, bytes)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o644))
        .map_err(|e| Error::io("set the mode of", path, e))
}

fn remove_file(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", path, e)),
    }
}

/// The lines every Docker `hosts` file starts with.
const DEFAULT_HOSTS: [(&str, &str); 6] = [
    ("127.0.0.1", "localhost"),
    ("::1", "localhost ip6-localhost ip6-loopback"),
    ("fe00::0", "ip6-localnet"),
    ("ff00::0", "ip6-mcastprefix"),
    ("ff02::1", "ip6-allnodes"),
    ("ff02::2", "ip6-allrouters"),
];

/// The `hosts` file Docker writes for a container with its own network: the default lines,
/// each extra host, then each of the container's addresses with `fqdn short` (or the bare
/// host name when it has no dot).
///
/// # Errors
///
/// [`Error::InvalidHostConfig`] for a malformed extra host.
pub fn hosts_content(settings: &EtcSettings) -> Result<String> {
    let mut text = String::new();
    let mut line = |ip: &str, names: &str| {
        let _ = writeln!(text, "{ip}\t{names}");
    };
    for (ip, names) in DEFAULT_HOSTS {
        line(ip, names);
    }
    for entry in &settings.extra_hosts {
        let (name, ip) = parse_extra_host(entry, settings.host_gateway)?;
        line(&ip, name);
    }
    if !settings.host_network {
        let mut fqdn = settings.hostname.clone();
        if !settings.domainname.is_empty() {
            fqdn = format!("{fqdn}.{}", settings.domainname);
        }
        let names = match fqdn.split_once('.') {
            Some((short, _)) => format!("{fqdn} {short}"),
            None => fqdn,
        };
        for address in &settings.addresses {
            line(&address.to_string(), &names);
        }
    }
    Ok(text)
}

/// Splits `name:ip` at its first colon (IPv6 addresses have more), checking it as Docker's
/// `ValidateExtraHost` does and putting the gateway's address for `host-gateway`.
fn parse_extra_host(entry: &str, gateway: Option<IpAddr>) -> Result<(&str, String)> {
    let (name, ip) = entry
        .split_once(':')
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| Error::InvalidHostConfig(format!("bad format for add-host: {entry:?}")))?;
    if ip == "host-gateway" {
        let gateway = gateway.ok_or_else(|| {
            Error::InvalidHostConfig("unable to derive the IP value for host-gateway".to_owned())
        })?;
        return Ok((name, gateway.to_string()));
    }
    if ip.trim().parse::<IpAddr>().is_err() {
        return Err(Error::InvalidHostConfig(format!(
            "invalid IP address in add-host: {ip:?}"
        )));
    }
    Ok((name, ip.to_owned()))
}

/// Go's `\s`: ASCII white space.
const SPACE: &str = r"[\t\n\f\r ]";
/// An IPv4 address, as libnetwork's resolvconf matches it.
const IPV4: &str =
    r"((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)";
/// A superset of IPv6 addresses, as libnetwork's resolvconf matches them.
const IPV6: &str = r"([0-9A-Fa-f]{0,4}:){2,7}([0-9A-Fa-f]{0,4})(%[0-9A-Za-z_]+)?";

/// A `nameserver` line of a loopback address, with the white space after it.
static LOCALHOST_NAMESERVER: LazyLock<Regex> = LazyLock::new(|| {
    pattern(&format!(
        r"(?m)^nameserver{SPACE}+((127\.([0-9]{{1,3}}\.){{2}}[0-9]{{1,3}})|(::1)$){SPACE}*\n*"
    ))
});
/// A `nameserver` line of an IPv6 address, with the white space after it.
static IPV6_NAMESERVER: LazyLock<Regex> =
    LazyLock::new(|| pattern(&format!(r"(?m)^nameserver{SPACE}+{IPV6}{SPACE}*\n*")));
/// One line naming a name server.
static NAMESERVER_LINE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(&format!(
        r"^{SPACE}*nameserver{SPACE}*(({IPV4})|({IPV6})){SPACE}*$"
    ))
});
/// One `search` line.
static SEARCH_LINE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(&format!(
        r"^{SPACE}*search{SPACE}*(([^\t\n\f\r ]+{SPACE}*)*)$"
    ))
});
/// One `options` line.
static OPTIONS_LINE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(&format!(
        r"^{SPACE}*options{SPACE}*(([^\t\n\f\r ]+{SPACE}*)*)$"
    ))
});

/// Compiles one of the constant patterns above.
fn pattern(text: &str) -> Regex {
    match Regex::new(text) {
        Ok(regex) => regex,
        Err(e) => unreachable!("a constant pattern compiles: {e}"),
    }
}

/// The lines of a resolver configuration without their `#` comments.
fn uncommented_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n')
        .map(|line| line.split_once('#').map_or(line, |(before, _)| before))
}

/// The name servers a resolver configuration names.
fn nameservers(text: &str) -> Vec<String> {
    uncommented_lines(text)
        .filter_map(|line| NAMESERVER_LINE.captures(line))
        .filter_map(|captures| captures.get(1).map(|m| m.as_str().to_owned()))
        .collect()
}

/// The words of the last line `regex` matches (`search` or `options`).
fn last_line_words(text: &str, regex: &Regex) -> Vec<String> {
    uncommented_lines(text)
        .filter_map(|line| regex.captures(line))
        .last()
        .and_then(|captures| captures.get(1))
        .map(|words| {
            words
                .as_str()
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Google's public DNS, Docker's fallback.
const FALLBACK_IPV4: [&str; 2] = ["nameserver 8.8.8.8", "nameserver 8.8.4.4"];
const FALLBACK_IPV6: [&str; 2] = [
    "nameserver 2001:4860:4860::8888",
    "nameserver 2001:4860:4860::8844",
];

/// libnetwork's `FilterResolvDNS`: loopback name servers removed, IPv6 ones too without
/// `ipv6`, and the fallback servers appended when none is left.
fn filter_resolv_conf(text: &str, ipv6: bool) -> String {
    let mut cleaned = LOCALHOST_NAMESERVER.replace_all(text, "").into_owned();
    if !ipv6 {
        cleaned = IPV6_NAMESERVER.replace_all(&cleaned, "").into_owned();
    }
    if nameservers(&cleaned).is_empty() {
        let mut fallback = FALLBACK_IPV4.to_vec();
        if ipv6 {
            fallback.extend(FALLBACK_IPV6);
        }
        cleaned.push('\n');
        cleaned.push_str(&fallback.join("\n"));
    }
    cleaned
}

/// The `resolv.conf` Docker writes for a container with its own network, from the host's
/// (`host_resolv`): with `Dns`, `DnsSearch` or `DnsOptions` set, one built from them (the
/// host's values for those not set); otherwise the host's filtered, first as the sandbox is
/// made (IPv6 kept) and again as the network is joined (with the network's IPv6).
pub fn resolv_conf_content(host_resolv: &str, settings: &EtcSettings) -> String {
    let custom = !settings.dns.is_empty()
        || !settings.dns_search.is_empty()
        || !settings.dns_options.is_empty();
    if !custom {
        let sandbox = filter_resolv_conf(host_resolv, true);
        return filter_resolv_conf(&sandbox, settings.ipv6);
    }
    let or_host = |own: &[String], host: Vec<String>| {
        if own.is_empty() { host } else { own.to_vec() }
    };
    let servers = or_host(&settings.dns, nameservers(host_resolv));
    let search = or_host(
        &settings.dns_search,
        last_line_words(host_resolv, &SEARCH_LINE),
    );
    let options = or_host(
        &settings.dns_options,
        last_line_words(host_resolv, &OPTIONS_LINE),
    );
    let mut text = String::new();
    let search = search.join(" ");
    if !search.is_empty() && search.trim_matches(' ') != "." {
        let _ = writeln!(text, "search {search}");
    }
    for server in servers {
        let _ = writeln!(text, "nameserver {server}");
    }
    let options = options.join(" ");
    if !options.trim_matches(' ').is_empty() {
        let _ = writeln!(text, "options {options}");
    }
    text
}

/// The host resolver configuration a container with its own network starts from: the
/// systemd-resolved one when the host's names only the stub resolver.
fn host_resolv_conf_path(host: &HostFiles) -> PathBuf {
    let only_stub = fs::read_to_string(&host.resolv_conf)
        .map(|text| nameservers(&text) == ["127.0.0.53"])
        .unwrap_or(false);
    if only_stub {
        host.systemd_resolv_conf.clone()
    } else {
        host.resolv_conf.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::{EtcFiles, EtcSettings, HostFiles, hosts_content, resolv_conf_content};
    use crate::mounts::MountPlan;
    use crate::scratch::ScratchDir;

    fn settings() -> EtcSettings {
        EtcSettings {
            hostname: "5a3c0b4c1d2e".to_owned(),
            ..EtcSettings::default()
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn hosts_has_dockers_lines_then_extra_hosts_then_the_containers_address() {
        let with_address = EtcSettings {
            addresses: vec![ip("172.17.0.2")],
            extra_hosts: vec![
                "db:10.0.0.9".to_owned(),
                "v6:fd00::1".to_owned(),
                "gw:host-gateway".to_owned(),
            ],
            host_gateway: Some(ip("172.17.0.1")),
            ..settings()
        };
        assert_eq!(
            hosts_content(&with_address).expect("hosts"),
            "127.0.0.1\tlocalhost\n\
             ::1\tlocalhost ip6-localhost ip6-loopback\n\
             fe00::0\tip6-localnet\n\
             ff00::0\tip6-mcastprefix\n\
             ff02::1\tip6-allnodes\n\
             ff02::2\tip6-allrouters\n\
             10.0.0.9\tdb\n\
             fd00::1\tv6\n\
             172.17.0.1\tgw\n\
             172.17.0.2\t5a3c0b4c1d2e\n"
        );
        let fqdn = EtcSettings {
            hostname: "web".to_owned(),
            domainname: "example.com".to_owned(),
            addresses: vec![ip("10.1.0.5"), ip("fd00::5")],
            ..EtcSettings::default()
        };
        let text = hosts_content(&fqdn).expect("hosts");
        assert!(
            text.ends_with("10.1.0.5\tweb.example.com web\nfd00::5\tweb.example.com web\n"),
            "{text}"
        );
    }

    #[test]
    fn malformed_extra_hosts_are_refused_with_dockers_texts() {
        for (entry, message) in [
            ("nocolon", "bad format for add-host: \"nocolon\""),
            (":1.2.3.4", "bad format for add-host: \":1.2.3.4\""),
            (
                "db:300.1.1.1",
                "invalid IP address in add-host: \"300.1.1.1\"",
            ),
            (
                "gw:host-gateway",
                "unable to derive the IP value for host-gateway",
            ),
        ] {
            let bad = EtcSettings {
                extra_hosts: vec![entry.to_owned()],
                ..settings()
            };
            assert_eq!(
                hosts_content(&bad).expect_err(entry).to_string(),
                message,
                "{entry}"
            );
        }
    }

    #[test]
    fn resolv_conf_drops_localhost_and_ipv6_servers_and_falls_back_to_google() {
        let host = "# from the host\nsearch corp.example\nnameserver 127.0.0.53\n\
                    nameserver 10.0.0.2\nnameserver fd00::53\noptions ndots:2\n";
        assert_eq!(
            resolv_conf_content(host, &settings()),
            "# from the host\nsearch corp.example\nnameserver 10.0.0.2\noptions ndots:2\n"
        );
        let with_ipv6 = EtcSettings {
            ipv6: true,
            ..settings()
        };
        assert!(resolv_conf_content(host, &with_ipv6).contains("nameserver fd00::53\n"));
        let only_local = "nameserver 127.0.0.1\nnameserver ::1\n";
        assert_eq!(
            resolv_conf_content(only_local, &settings()),
            "\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
        assert_eq!(
            resolv_conf_content(only_local, &with_ipv6),
            "\nnameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\n\
             nameserver 2001:4860:4860::8844"
        );
        assert_eq!(
            resolv_conf_content("", &settings()),
            "\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
    }

    #[test]
    fn dns_settings_replace_the_hosts_values_one_by_one() {
        let host = "search a.example b.example\nnameserver 10.0.0.2\noptions ndots:2\n";
        let dns_only = EtcSettings {
            dns: vec!["1.1.1.1".to_owned(), "9.9.9.9".to_owned()],
            ..settings()
        };
        assert_eq!(
            resolv_conf_content(host, &dns_only),
            "search a.example b.example\nnameserver 1.1.1.1\nnameserver 9.9.9.9\n\
             options ndots:2\n"
        );
        let no_search = EtcSettings {
            dns_search: vec![".".to_owned()],
            dns_options: vec!["rotate".to_owned(), "timeout:1".to_owned()],
            ..settings()
        };
        assert_eq!(
            resolv_conf_content(host, &no_search),
            "nameserver 10.0.0.2\noptions rotate timeout:1\n"
        );
    }

    fn host_files(dir: &std::path::Path, hosts: &str, resolv: &str) -> HostFiles {
        std::fs::write(dir.join("host-hosts"), hosts).expect("hosts");
        std::fs::write(dir.join("host-resolv"), resolv).expect("resolv");
        std::fs::write(dir.join("systemd-resolv"), "nameserver 192.0.2.53\n").expect("systemd");
        HostFiles {
            hosts: dir.join("host-hosts"),
            resolv_conf: dir.join("host-resolv"),
            systemd_resolv_conf: dir.join("systemd-resolv"),
        }
    }

    #[test]
    fn the_hosts_network_gets_copies_of_the_hosts_files() {
        let dir = ScratchDir::new("host-network");
        let host = host_files(
            dir.path(),
            "127.0.0.1 localhost box\n",
            "nameserver 127.0.0.53\n",
        );
        let files = EtcFiles::in_dir(&dir.path().join("container"));
        let on_host = EtcSettings {
            host_network: true,
            ..settings()
        };
        files.write(&on_host, &host).expect("written");
        assert_eq!(
            std::fs::read_to_string(&files.hosts).expect("hosts"),
            "127.0.0.1 localhost box\n"
        );
        assert_eq!(
            std::fs::read_to_string(&files.resolv_conf).expect("resolv"),
            "nameserver 127.0.0.53\n"
        );
        assert_eq!(
            std::fs::read_to_string(&files.hostname).expect("hostname"),
            "5a3c0b4c1d2e\n"
        );
        // Its own network starts from systemd-resolved's file when the host's names only
        // the stub.
        files.write(&settings(), &host).expect("written");
        assert_eq!(
            std::fs::read_to_string(&files.resolv_conf).expect("resolv"),
            "nameserver 192.0.2.53\n"
        );
    }

    #[test]
    fn files_the_user_mounts_over_are_not_mounted() {
        let dir = ScratchDir::new("mounts");
        let host = host_files(dir.path(), "", "nameserver 10.0.0.2\n");
        let files = EtcFiles::in_dir(&dir.path().join("container"));
        files.write(&settings(), &host).expect("written");
        let mut plan = MountPlan::default();
        plan.tmpfs.insert("/etc/hostname".to_owned(), String::new());
        let mounts = files.oci_mounts(&plan, true).expect("mounts");
        let destinations: Vec<String> = mounts
            .iter()
            .map(|mount| mount.destination().display().to_string())
            .collect();
        assert_eq!(destinations, ["/etc/resolv.conf", "/etc/hosts"]);
        assert_eq!(
            mounts[0].options().clone().unwrap_or_default(),
            ["rbind", "ro", "rprivate"]
        );
    }
}
