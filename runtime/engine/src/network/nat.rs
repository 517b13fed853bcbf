//! The bridge's firewall, as dockerd writes it with iptables, in chains of the engine's own
//! (named after a configurable prefix, `DRYDOCK` by default) so nothing of anyone else's is
//! touched: outbound NAT (MASQUERADE of the subnet), DNAT of published ports for traffic from
//! other hosts and from the host to its own non-loopback addresses, forwarding rules that let
//! containers out and published ports in, and `ip_forward`.
//!
//! The built-in chains only get a jump each; everything else lives in the engine's chains,
//! which [`Firewall::install`] rebuilds from the engine's state in one `iptables-restore`
//! transaction, so the rules always say what the state on disk says.
//!
//! | table | chain | rules |
//! |---|---|---|
//! | nat | `PREROUTING` | `-m addrtype --dst-type LOCAL -j DRYDOCK` |
//! | nat | `OUTPUT` | `! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DRYDOCK` |
//! | nat | `POSTROUTING` | `-j DRYDOCK-POSTROUTING` |
//! | nat | `DRYDOCK` | `-i <bridge> -j RETURN`, then a DNAT per published port |
//! | nat | `DRYDOCK-POSTROUTING` | `-s <subnet> ! -o <bridge> -j MASQUERADE` |
//! | filter | `FORWARD` | `-j DRYDOCK-FORWARD` (first) |
//! | filter | `DRYDOCK-FORWARD` | replies in, `-j DRYDOCK`, containers out and to each other, the rest into the bridge dropped |
//! | filter | `DRYDOCK` | an ACCEPT per published port |
//!
//! Connections to `127.0.0.1` never reach these rules (the kernel does not route loopback
//! traffic to another interface): the userland proxy ([`super::proxy`]) serves them, as
//! docker-proxy does.

use std::fs;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};

use super::ipam::Subnet;
use super::ports::PortBinding;
use crate::error::{Error, Result};

/// The iptables binary (Debian's alternative: nft or legacy, whichever the host uses).
const IPTABLES: &str = "iptables";
/// Its batch form.
const IPTABLES_RESTORE: &str = "iptables-restore";
/// How many times a command that lost a race for the ruleset is run.
const ATTEMPTS: usize = 5;

/// An iptables table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Table {
    Nat,
    Filter,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Nat => "nat",
            Table::Filter => "filter",
        }
    }
}

/// One rule: its table, and its chain followed by its match and target, as `iptables -A`
/// takes them.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    table: Table,
    chain: String,
    spec: Vec<String>,
}

impl Rule {
    fn new(table: Table, chain: &str, spec: &str) -> Rule {
        Rule {
            table,
            chain: chain.to_owned(),
            spec: spec.split_whitespace().map(str::to_owned).collect(),
        }
    }

    /// The rule as an `iptables-restore` line after `-A` or `-D`.
    fn line(&self, action: &str) -> String {
        format!("{action} {} {}", self.chain, self.spec.join(" "))
    }
}

/// The firewall of one bridge.
#[derive(Clone, Debug)]
pub struct Firewall {
    /// The engine's chain prefix (`DRYDOCK`).
    chain: String,
    /// The bridge's name.
    bridge: String,
}

impl Firewall {
    /// The firewall of `bridge` in chains named after `chain`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidNetworkConfig`] when the chain name is empty, too long for iptables
    /// (with its `-POSTROUTING` suffix) or has characters other than letters, digits, `-`, `_`.
    pub fn new(chain: &str, bridge: &str) -> Result<Firewall> {
        let valid = !chain.is_empty()
            && chain.len() + "-POSTROUTING".len() <= 28
            && chain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        if !valid {
            return Err(Error::InvalidNetworkConfig(format!(
                "invalid iptables chain name {chain:?}: up to 16 letters, digits, '-' or '_'"
            )));
        }
        Ok(Firewall {
            chain: chain.to_owned(),
            bridge: bridge.to_owned(),
        })
    }

    fn postrouting_chain(&self) -> String {
        format!("{}-POSTROUTING", self.chain)
    }

    fn forward_chain(&self) -> String {
        format!("{}-FORWARD", self.chain)
    }

    /// The engine's chains, in the order they are deleted (referring chains first).
    fn chains(&self) -> [(Table, String); 4] {
        [
            (Table::Nat, self.chain.clone()),
            (Table::Nat, self.postrouting_chain()),
            (Table::Filter, self.forward_chain()),
            (Table::Filter, self.chain.clone()),
        ]
    }

    /// The jumps from the built-in chains into the engine's, and whether each goes first.
    fn jumps(&self) -> [(Rule, bool); 4] {
        let chain = &self.chain;
        [
            (
                Rule::new(
                    Table::Nat,
                    "PREROUTING",
                    &format!("-m addrtype --dst-type LOCAL -j {chain}"),
                ),
                false,
            ),
            (
                Rule::new(
                    Table::Nat,
                    "OUTPUT",
                    &format!("! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j {chain}"),
                ),
                false,
            ),
            (
                Rule::new(
                    Table::Nat,
                    "POSTROUTING",
                    &format!("-j {}", self.postrouting_chain()),
                ),
                false,
            ),
            (
                Rule::new(
                    Table::Filter,
                    "FORWARD",
                    &format!("-j {}", self.forward_chain()),
                ),
                true,
            ),
        ]
    }

    /// The rules of the bridge itself, whatever is published.
    fn base_rules(&self, subnet: Subnet) -> Vec<Rule> {
        let (chain, bridge) = (&self.chain, &self.bridge);
        let forward = self.forward_chain();
        vec![
            Rule::new(Table::Nat, chain, &format!("-i {bridge} -j RETURN")),
            Rule::new(
                Table::Nat,
                &self.postrouting_chain(),
                &format!("-s {subnet} ! -o {bridge} -j MASQUERADE"),
            ),
            Rule::new(
                Table::Filter,
                &forward,
                &format!("-o {bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"),
            ),
            Rule::new(Table::Filter, &forward, &format!("-o {bridge} -j {chain}")),
            Rule::new(
                Table::Filter,
                &forward,
                &format!("-i {bridge} ! -o {bridge} -j ACCEPT"),
            ),
            Rule::new(
                Table::Filter,
                &forward,
                &format!("-i {bridge} -o {bridge} -j ACCEPT"),
            ),
            Rule::new(Table::Filter, &forward, &format!("-o {bridge} -j DROP")),
        ]
    }

    /// The rules of one published port of the container at `container_ip`: the DNAT of the
    /// host port and the ACCEPT of the forwarded traffic.
    fn binding_rules(&self, container_ip: Ipv4Addr, binding: &PortBinding) -> [Rule; 2] {
        let (chain, bridge) = (&self.chain, &self.bridge);
        let protocol = binding.protocol;
        let destination = if binding.host_ip.is_unspecified() {
            String::new()
        } else {
            format!("-d {}/32 ", binding.host_ip)
        };
        [
            Rule::new(
                Table::Nat,
                chain,
                &format!(
                    "! -i {bridge} {destination}-p {protocol} -m {protocol} --dport {} -j DNAT \
                     --to-destination {container_ip}:{}",
                    binding.host_port, binding.container_port
                ),
            ),
            Rule::new(
                Table::Filter,
                chain,
                &format!(
                    "-d {container_ip}/32 ! -i {bridge} -o {bridge} -p {protocol} -m {protocol} \
                     --dport {} -j ACCEPT",
                    binding.container_port
                ),
            ),
        ]
    }

    /// Turns IPv4 forwarding on, creates the engine's chains (emptied if they exist), fills
    /// them with the bridge's rules for `subnet` and those of every published port, and adds
    /// the jumps into them that are missing.
    ///
    /// # Errors
    ///
    /// [`Error::Network`] when iptables fails (its message says why).
    pub fn install(&self, subnet: Subnet, published: &[(Ipv4Addr, &[PortBinding])]) -> Result<()> {
        enable_ip_forward()?;
        let mut rules = self.base_rules(subnet);
        for (container_ip, bindings) in published {
            for binding in *bindings {
                rules.extend(self.binding_rules(*container_ip, binding));
            }
        }
        let mut script = String::new();
        for table in [Table::Nat, Table::Filter] {
            script.push_str(&format!("*{}\n", table.name()));
            for (_, chain) in self.chains().iter().filter(|(t, _)| *t == table) {
                script.push_str(&format!(":{chain} - [0:0]\n"));
            }
            for rule in rules.iter().filter(|rule| rule.table == table) {
                script.push_str(&rule.line("-A"));
                script.push('\n');
            }
            script.push_str("COMMIT\n");
        }
        restore(&script)?;
        for (jump, first) in self.jumps() {
            if !check(&jump)? {
                let mut args = vec!["-t", jump.table.name()];
                if first {
                    args.extend(["-I", &jump.chain, "1"]);
                } else {
                    args.extend(["-A", &jump.chain]);
                }
                args.extend(jump.spec.iter().map(String::as_str));
                iptables(&args)?;
            }
        }
        Ok(())
    }

    /// Adds the rules of the ports published for the container at `container_ip`.
    ///
    /// # Errors
    ///
    /// [`Error::Network`] when iptables fails; no rule of the batch is added then.
    pub fn publish(&self, container_ip: Ipv4Addr, bindings: &[PortBinding]) -> Result<()> {
        let rules: Vec<Rule> = bindings
            .iter()
            .flat_map(|binding| self.binding_rules(container_ip, binding))
            .collect();
        restore(&script_of(&rules, "-A"))
    }

    /// Deletes the rules of the ports published for the container at `container_ip`; rules
    /// already gone are skipped.
    ///
    /// # Errors
    ///
    /// [`Error::Network`] when iptables fails for another reason than a missing rule.
    pub fn unpublish(&self, container_ip: Ipv4Addr, bindings: &[PortBinding]) -> Result<()> {
        let rules: Vec<Rule> = bindings
            .iter()
            .flat_map(|binding| self.binding_rules(container_ip, binding))
            .collect();
        if rules.is_empty() || restore(&script_of(&rules, "-D")).is_ok() {
            return Ok(());
        }
        // Some rule was missing (a crash between the steps of a publish): one at a time.
        for rule in &rules {
            delete(rule)?;
        }
        Ok(())
    }

    /// Deletes the jumps into the engine's chains and the chains themselves.
    ///
    /// # Errors
    ///
    /// [`Error::Network`] when iptables fails for another reason than a missing rule or chain.
    pub fn uninstall(&self) -> Result<()> {
        for (jump, _) in self.jumps() {
            while check(&jump)? {
                delete(&jump)?;
            }
        }
        for action in ["-F", "-X"] {
            for (table, chain) in self.chains() {
                match iptables(&["-t", table.name(), action, &chain]) {
                    Err(e) if is_missing(&e) => {}
                    done => drop(done?),
                }
            }
        }
        Ok(())
    }

    /// The engine's rules as `iptables -S` lists them, each table's after its name, for
    /// checking what is installed.
    ///
    /// # Errors
    ///
    /// [`Error::Network`] when iptables fails.
    pub fn listing(&self) -> Result<String> {
        let mut listing = String::new();
        for (table, chain) in self.chains() {
            listing.push_str(&format!("# {} {chain}\n", table.name()));
            match iptables(&["-t", table.name(), "-S", &chain]) {
                Ok(rules) => listing.push_str(&rules),
                Err(e) if is_missing(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(listing)
    }
}

/// An `iptables-restore --noflush` script that applies `action` to each rule.
fn script_of(rules: &[Rule], action: &str) -> String {
    let mut script = String::new();
    for table in [Table::Nat, Table::Filter] {
        let lines: Vec<String> = rules
            .iter()
            .filter(|rule| rule.table == table)
            .map(|rule| rule.line(action))
            .collect();
        if lines.is_empty() {
            continue;
        }
        script.push_str(&format!(
            "*{}\n{}\nCOMMIT\n",
            table.name(),
            lines.join("\n")
        ));
    }
    script
}

/// Whether `rule` is in its chain (`iptables -C`); a missing chain holds no rule.
fn check(rule: &Rule) -> Result<bool> {
    let mut args = vec!["-t", rule.table.name(), "-C", &rule.chain];
    args.extend(rule.spec.iter().map(String::as_str));
    match iptables(&args) {
        Ok(_) => Ok(true),
        Err(e) if is_missing(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Deletes `rule`; a rule that is not there is already deleted.
fn delete(rule: &Rule) -> Result<()> {
    let mut args = vec!["-t", rule.table.name(), "-D", &rule.chain];
    args.extend(rule.spec.iter().map(String::as_str));
    match iptables(&args) {
        Err(e) if is_missing(&e) => Ok(()),
        done => done.map(drop),
    }
}

/// Whether iptables failed because a rule or chain does not exist.
fn is_missing(error: &Error) -> bool {
    let text = error.to_string();
    [
        "Bad rule",
        "does a matching rule exist",
        "No chain/target/match by that name",
        "does not exist",
        "is incompatible",
    ]
    .iter()
    .any(|missing| text.contains(missing))
}

/// Whether iptables failed because another writer held the ruleset.
fn is_contended(stderr: &str) -> bool {
    stderr.contains("Resource temporarily unavailable")
        || stderr.contains("xtables lock")
        || stderr.contains("try again")
}

/// Runs `iptables -w <args>` and returns its stdout.
fn iptables(args: &[&str]) -> Result<String> {
    run(IPTABLES, args, None)
}

/// Feeds `script` to `iptables-restore -w --noflush`.
fn restore(script: &str) -> Result<()> {
    run(IPTABLES_RESTORE, &["--noflush"], Some(script)).map(drop)
}

fn run(program: &str, args: &[&str], input: Option<&str>) -> Result<String> {
    let mut stderr = String::new();
    for _ in 0..ATTEMPTS {
        let mut child = Command::new(program)
            .arg("-w")
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Network(format!("cannot run {program} (install iptables): {e}")))?;
        if let (Some(script), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin
                .write_all(script.as_bytes())
                .map_err(|e| Error::Network(format!("cannot feed {program}: {e}")))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| Error::Network(format!("{program} {}: {e}", args.join(" "))))?;
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        if !is_contended(&stderr) {
            break;
        }
    }
    let shown = match input {
        Some(script) => format!("{program} {} <<EOF\n{script}EOF", args.join(" ")),
        None => format!("{program} {}", args.join(" ")),
    };
    Err(Error::Network(format!("{shown}: {stderr}")))
}

/// Turns on IPv4 forwarding (`net.ipv4.ip_forward`), which a bridge needs to route its
/// containers' traffic; it is left on, as dockerd leaves it.
///
/// # Errors
///
/// [`Error::Io`] when the sysctl cannot be read or written.
pub fn enable_ip_forward() -> Result<()> {
    let path = Path::new("/proc/sys/net/ipv4/ip_forward");
    let now = fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
    if now.trim() == "1" {
        return Ok(());
    }
    fs::write(path, "1").map_err(|e| Error::io("write", path, e))
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::{Firewall, script_of};
    use crate::network::ports::{PortBinding, Protocol};

    #[test]
    fn a_published_port_becomes_dockers_dnat_and_accept_rules() {
        let firewall = Firewall::new("DRYDOCK", "drydock0").expect("a valid chain");
        let binding = PortBinding {
            container_port: 80,
            protocol: Protocol::Tcp,
            host_ip: Ipv4Addr::LOCALHOST,
            host_port: 8080,
        };
        let rules = firewall.binding_rules(Ipv4Addr::new(172, 18, 0, 2), &binding);
        assert_eq!(
            script_of(&rules, "-A"),
            "*nat\n-A DRYDOCK ! -i drydock0 -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT \
             --to-destination 172.18.0.2:80\nCOMMIT\n*filter\n-A DRYDOCK -d 172.18.0.2/32 ! -i \
             drydock0 -o drydock0 -p tcp -m tcp --dport 80 -j ACCEPT\nCOMMIT\n"
        );
        let any = PortBinding {
            host_ip: Ipv4Addr::UNSPECIFIED,
            protocol: Protocol::Udp,
            ..binding
        };
        let rules = firewall.binding_rules(Ipv4Addr::new(172, 18, 0, 2), &any);
        assert_eq!(
            rules[0].line("-D"),
            "-D DRYDOCK ! -i drydock0 -p udp -m udp --dport 8080 -j DNAT --to-destination \
             172.18.0.2:80"
        );
    }

    #[test]
    fn chain_names_iptables_cannot_take_are_refused() {
        assert!(Firewall::new("", "br").is_err());
        assert!(Firewall::new("A-VERY-LONG-CHAIN-NAME", "br").is_err());
        assert!(Firewall::new("DRY DOCK", "br").is_err());
        assert!(Firewall::new("DDT-17", "br").is_ok());
    }
}
