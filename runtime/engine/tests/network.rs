//! The engine's networking against the real thing: a real Linux bridge, veths and namespaces
//! made with iproute2, real iptables rules, the real proxy binary, and busybox containers run
//! by the real runc. Needs root, runc, busybox-static, iproute2 and iptables (`cargo xtask
//! test` installs them). Each test works in a slot of its own (bridge `ddt<nn>`, chains
//! `DDT<nn>`, subnet `10.213.<n>.0/24`) and sends traffic only to loopback and to addresses in
//! namespaces it made.

#[path = "support/network.rs"]
mod network_support;
#[path = "support/slot.rs"]
mod slot;
#[allow(
    dead_code,
    reason = "shared with the engine tests; not every helper is used here"
)]
mod support;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use drydock_engine::ErrorKind;
use drydock_engine::digest::Digest;
use drydock_engine::images::ContainerConfig;
use drydock_engine::network::{
    Attachment, MacAddress, NetworkMode, Networks, PortRequest, Subnet, link, namespace, proxy,
};
use drydock_engine::oci::{HostSettings, NetworkNamespace};

use network_support::{ExtraRoute, PeerHost, TestNetworks};
use slot::Slot;
use support::{Sandbox, new_container_id};

/// How long a short-lived container may take.
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a server in a container may take to answer for the first time.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A busybox httpd on port 80 (IPv4, so addresses are not IPv4-mapped IPv6) whose
/// `/cgi-bin/who` answers `from <the client's address>`.
const WHO_SERVER: &str = "mkdir -p /www/cgi-bin && printf '%s\\n' '#!/bin/sh' \
     'echo Content-Type: text/plain' 'echo' 'echo from $REMOTE_ADDR' > /www/cgi-bin/who && \
     chmod +x /www/cgi-bin/who && exec httpd -f -p 0.0.0.0:80 -h /www";

/// Starts `script` under `sh -c` in a new busybox container in `network`.
fn start_sh(sandbox: &Sandbox, image: &Digest, id: &str, network: NetworkNamespace, script: &str) {
    let layers = sandbox
        .store
        .layer_paths(image)
        .expect("the image's layers");
    let config = ContainerConfig {
        cmd: Some(vec!["sh".to_owned(), "-c".to_owned(), script.to_owned()]),
        ..ContainerConfig::default()
    };
    let host = HostSettings {
        network,
        ..HostSettings::default()
    };
    sandbox
        .runtime
        .start(id, &layers, &config, &host, 0)
        .unwrap_or_else(|e| panic!("the container starts: {e}"));
}

/// What a container logged, all lines together.
fn logged(sandbox: &Sandbox, id: &str) -> String {
    let text = std::fs::read_to_string(sandbox.runtime.log_path(id)).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|entry| entry["log"].as_str().map(str::to_owned))
        .collect()
}

/// Runs `script` in a container in `network` to its end; returns its exit code and output.
fn run_sh(
    sandbox: &Sandbox,
    image: &Digest,
    network: NetworkNamespace,
    script: &str,
) -> (i32, String) {
    let id = new_container_id();
    start_sh(sandbox, image, &id, network, script);
    let exit = sandbox.runtime.wait(&id, EXIT_TIMEOUT).expect("it exits");
    let output = logged(sandbox, &id);
    sandbox.runtime.remove(&id, false).expect("it is removed");
    (exit.exit_code, output)
}

/// One HTTP/1.0 GET of `path`; the whole response.
fn http_get(address: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: drydock\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

/// The last line (a CGI's one-line body) of the first `200 OK` answer to a GET of `path` at
/// `address`, polling until the server is up.
fn get_when_ready(address: SocketAddr, path: &str) -> String {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let answer = http_get(address, path);
        if let Ok(response) = &answer
            && response
                .lines()
                .next()
                .is_some_and(|status| status.contains(" 200 "))
        {
            // The CGI's body is one line, the response's last.
            return response
                .trim()
                .lines()
                .last()
                .unwrap_or_default()
                .to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no 200 from {address}{path} within {READY_TIMEOUT:?}: {answer:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The container's address on the bridge.
fn ip_of(attachment: &Attachment) -> Ipv4Addr {
    attachment.bridge.as_ref().expect("on the bridge").ip
}

/// The host port of the attachment's `index`th binding.
fn host_port(attachment: &Attachment, index: usize) -> u16 {
    attachment.ports[index].host_port
}

/// Whether anything listens on `port` of loopback (TCP).
fn tcp_port_taken(port: u16) -> bool {
    TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).is_err()
}

/// `iptables-save`'s whole output (both tables).
fn iptables_save() -> String {
    let output = Command::new("iptables-save")
        .output()
        .expect("iptables-save runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// One test's world: a sandbox, a slot of the host's networking, and the networks opened in
/// them. Fields drop in order: the networks are torn down before the slot is freed and the
/// sandbox removed.
struct Scene {
    networks: TestNetworks,
    slot: Slot,
    sandbox: Sandbox,
}

impl Scene {
    /// A scene whose bridge has the slot's subnet with `prefix_len` bits.
    fn new(prefix_len: u8) -> Scene {
        let sandbox = Sandbox::new();
        let slot = Slot::claim();
        let networks = TestNetworks::open(network_support::config(&slot, &sandbox.dir, prefix_len));
        Scene {
            networks,
            slot,
            sandbox,
        }
    }

    fn networks(&self) -> &Networks {
        self.networks.get()
    }

    /// Attaches a new container to the network of `mode`, publishing `ports` (`-p` forms).
    fn attach(&self, mode: NetworkMode, ports: &[&str]) -> Attachment {
        let requests: Vec<PortRequest> = ports
            .iter()
            .map(|port| port.parse().expect("a port request"))
            .collect();
        self.networks()
            .attach(&new_container_id(), mode, &requests)
            .unwrap_or_else(|e| panic!("the container attaches: {e}"))
    }

    /// Starts `script` in the attached container.
    fn start_sh(&self, image: &Digest, attachment: &Attachment, script: &str) {
        let id = &attachment.container_id;
        start_sh(&self.sandbox, image, id, attachment.namespace(), script);
    }

    /// Detaches the container and checks that nothing of it is left (see
    /// [`assert_nothing_left`]).
    fn detach_and_check(&self, attachment: &Attachment, proxy_pid: Option<i32>) {
        self.networks()
            .detach(&attachment.container_id)
            .expect("detaches");
        assert_nothing_left(self.networks(), attachment, proxy_pid);
    }
}

/// Checks that nothing of a detached bridge attachment is left: no veth, no namespace file or
/// mount, no rule naming its address, no proxy.
fn assert_nothing_left(networks: &Networks, attachment: &Attachment, proxy_pid: Option<i32>) {
    let endpoint = attachment.bridge.as_ref().expect("on the bridge");
    assert!(networks.attachment(&attachment.container_id).is_none());
    assert!(
        !link::link_exists(&endpoint.host_interface),
        "{} is left",
        endpoint.host_interface
    );
    assert!(!endpoint.namespace.exists(), "the namespace file is left");
    assert!(!namespace::exists(&endpoint.namespace).expect("mountinfo"));
    let listing = networks.firewall_listing().expect("the rules list");
    assert!(
        !listing.contains(&format!("{}/32", endpoint.ip))
            && !listing.contains(&format!("{}:", endpoint.ip)),
        "rules of {} are left:\n{listing}",
        endpoint.ip
    );
    if let Some(pid) = proxy_pid {
        // Gone, or a zombie its new parent has yet to reap.
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat.rsplit_once(") ").map(|(_, rest)| &rest[..1]);
        assert!(
            matches!(state, None | Some("Z")),
            "the proxy {pid} is left: {stat}"
        );
    }
}

/// Runs `work` on a thread in the attached container's namespace (a server the test plays
/// instead of a container).
fn in_namespace_of(
    attachment: &Attachment,
    work: impl FnOnce() + Send + 'static,
) -> std::thread::JoinHandle<()> {
    let endpoint = attachment.bridge.as_ref().expect("on the bridge");
    let path = endpoint.namespace.clone();
    std::thread::spawn(move || namespace::run_in(&path, work).expect("joins the namespace"))
}

/// The pid of the proxy of a container.
fn proxy_pid(networks: &Networks, container_id: &str) -> Option<i32> {
    let spec = networks
        .config()
        .exec_root
        .join("network/proxy")
        .join(format!("{container_id}.json"));
    proxy::running_pid(&spec)
}

#[test]
fn a_bridged_container_has_an_address_in_the_subnet_a_derived_mac_a_default_route_and_loopback() {
    let scene = Scene::new(24);
    let image = scene.sandbox.import_busybox();
    let attachment = scene.attach(NetworkMode::Bridge, &[]);
    let endpoint = attachment.bridge.clone().expect("on the bridge");
    let subnet = scene.slot.subnet(24);
    assert_eq!(endpoint.ip, Ipv4Addr::from(u32::from(subnet.network()) + 2));
    assert_eq!(endpoint.gateway, subnet.first_host());
    assert_eq!(endpoint.prefix_len, 24);
    assert_eq!(endpoint.mac, MacAddress::from_ipv4(endpoint.ip));
    assert_eq!(endpoint.bridge, scene.slot.bridge());
    assert_eq!(attachment.network_name, "bridge");
    let bridge = scene.networks().find("bridge").expect("bridge");
    assert_eq!(attachment.network_id, bridge.id);
    assert_eq!(attachment.endpoint_id.len(), 64);
    let master = std::fs::read_link(format!("/sys/class/net/{}/master", endpoint.host_interface))
        .expect("the host end has a master");
    assert!(master.ends_with(scene.slot.bridge()), "{master:?}");
    let again = scene
        .networks()
        .attach(&attachment.container_id, NetworkMode::Bridge, &[])
        .expect("attaches again");
    assert_eq!(
        again, attachment,
        "attaching again returns the same attachment"
    );
    let (code, output) = run_sh(
        &scene.sandbox,
        &image,
        attachment.namespace(),
        "ip -4 addr show dev eth0; ip route; ip link show lo; cat /sys/class/net/eth0/address",
    );
    assert_eq!(code, 0, "{output}");
    for wanted in [
        format!("inet {}/24", endpoint.ip),
        format!("default via {} dev eth0", endpoint.gateway),
        "<LOOPBACK,UP,LOWER_UP>".to_owned(),
        endpoint.mac.to_string(),
    ] {
        assert!(output.contains(&wanted), "no {wanted:?} in {output}");
    }
    scene.detach_and_check(&attachment, None);
}

#[test]
fn two_containers_on_the_bridge_ping_and_fetch_from_each_other() {
    let scene = Scene::new(24);
    let image = scene.sandbox.import_busybox();
    let server = scene.attach(NetworkMode::Bridge, &[]);
    scene.start_sh(&image, &server, WHO_SERVER);
    let client = scene.attach(NetworkMode::Bridge, &[]);
    assert_ne!(ip_of(&client), ip_of(&server));
    let server_ip = ip_of(&server);
    let script = format!(
        "ping -c 1 -W 5 {server_ip} >/dev/null || exit 7; \
         for i in $(seq 300); do wget -q -O - http://{server_ip}/cgi-bin/who && exit 0; \
         sleep 0.1; done; exit 1"
    );
    let (code, output) = run_sh(&scene.sandbox, &image, client.namespace(), &script);
    assert_eq!(code, 0, "{output}");
    assert_eq!(output.trim(), format!("from {}", ip_of(&client)));
    scene
        .sandbox
        .runtime
        .remove(&server.container_id, true)
        .expect("removed");
    scene.detach_and_check(&server, None);
    scene.detach_and_check(&client, None);
}

#[test]
fn a_published_port_answers_on_the_hosts_loopback_through_the_proxy_and_goes_with_detach() {
    let scene = Scene::new(24);
    let image = scene.sandbox.import_busybox();
    let attachment = scene.attach(NetworkMode::Bridge, &["127.0.0.1::80", "::80"]);
    assert_eq!(attachment.ports.len(), 2);
    assert_eq!(attachment.ports[0].host_ip, Ipv4Addr::LOCALHOST);
    assert_eq!(attachment.ports[1].host_ip, Ipv4Addr::UNSPECIFIED);
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .expect("the ephemeral range");
    let bounds: Vec<u16> = range
        .split_whitespace()
        .filter_map(|bound| bound.parse().ok())
        .collect();
    for binding in &attachment.ports {
        assert_eq!(binding.port_key(), "80/tcp");
        assert!(
            (bounds[0]..=bounds[1]).contains(&binding.host_port),
            "{binding:?} outside {range}"
        );
    }
    scene.start_sh(&image, &attachment, WHO_SERVER);
    let gateway = attachment.bridge.as_ref().expect("bridged").gateway;
    for index in [0, 1] {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, host_port(&attachment, index)));
        // The proxy connects from the host, whose address on the bridge is the gateway.
        assert_eq!(
            get_when_ready(address, "/cgi-bin/who"),
            format!("from {gateway}")
        );
    }
    let pid = proxy_pid(scene.networks(), &attachment.container_id).expect("the proxy runs");
    scene
        .sandbox
        .runtime
        .remove(&attachment.container_id, true)
        .expect("removed");
    scene.detach_and_check(&attachment, Some(pid));
    for index in [0, 1] {
        assert!(
            !tcp_port_taken(host_port(&attachment, index)),
            "the host port is still held"
        );
    }
}

#[test]
fn a_published_udp_port_relays_datagrams_both_ways_through_the_proxy() {
    let scene = Scene::new(24);
    let attachment = scene.attach(NetworkMode::Bridge, &["127.0.0.1::5353/udp"]);
    // An echo server in the container's namespace, answering until told to stop.
    let echo = in_namespace_of(&attachment, || {
        let socket = UdpSocket::bind("0.0.0.0:5353").expect("binds in the namespace");
        socket
            .set_read_timeout(Some(READY_TIMEOUT))
            .expect("a timeout");
        let mut buffer = [0_u8; 512];
        while let Ok((length, peer)) = socket.recv_from(&mut buffer) {
            if &buffer[..length] == b"stop" {
                break;
            }
            let mut answer = b"echo ".to_vec();
            answer.extend_from_slice(&buffer[..length]);
            socket.send_to(&answer, peer).expect("answers");
        }
    });
    let client = UdpSocket::bind("127.0.0.1:0").expect("a client socket");
    client
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("a timeout");
    let proxy_address = SocketAddrV4::new(Ipv4Addr::LOCALHOST, host_port(&attachment, 0));
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut buffer = [0_u8; 512];
    let answer = loop {
        client.send_to(b"hello", proxy_address).expect("sends");
        if let Ok(length) = client.recv(&mut buffer) {
            break buffer[..length].to_vec();
        }
        assert!(
            Instant::now() < deadline,
            "no answer through {proxy_address}"
        );
    };
    assert_eq!(answer, b"echo hello");
    client.send_to(b"stop", proxy_address).expect("sends");
    echo.join().expect("the echo server ends");
    scene.detach_and_check(&attachment, None);
}

#[test]
fn a_published_port_is_reached_from_another_host_through_dnat() {
    let scene = Scene::new(24);
    let image = scene.sandbox.import_busybox();
    let peer = PeerHost::new(&scene.sandbox.dir.join("peer"), &scene.slot);
    let attachment = scene.attach(NetworkMode::Bridge, &["::80"]);
    scene.start_sh(&image, &attachment, WHO_SERVER);
    let address = SocketAddr::from((peer.host_address, host_port(&attachment, 0)));
    let answer = namespace::run_in(&peer.namespace, || get_when_ready(address, "/cgi-bin/who"))
        .expect("into the peer's namespace");
    // DNAT keeps the peer's own address as the source; the proxy would show the gateway's.
    assert_eq!(answer, format!("from {}", peer.peer_address));
    scene
        .sandbox
        .runtime
        .remove(&attachment.container_id, true)
        .expect("removed");
    scene.detach_and_check(&attachment, None);
}

#[test]
fn the_pool_never_hands_out_an_address_twice_and_takes_released_ones_back_last() {
    // A /29: six host addresses, one of them the gateway.
    let scene = Scene::new(29);
    let attachments: Vec<Attachment> = (0..5)
        .map(|_| scene.attach(NetworkMode::Bridge, &[]))
        .collect();
    let mut addresses: Vec<Ipv4Addr> = attachments.iter().map(ip_of).collect();
    addresses.sort();
    addresses.dedup();
    assert_eq!(addresses.len(), 5, "{addresses:?}");
    let full = scene
        .networks()
        .attach(&new_container_id(), NetworkMode::Bridge, &[])
        .expect_err("the pool is exhausted");
    // In dockerd's words, naming the network and its id.
    let bridge = scene.networks().find("bridge").expect("the bridge network");
    assert_eq!(
        full.to_string(),
        format!(
            "no available IPv4 addresses on this network's address pools: bridge ({})",
            bridge.id
        )
    );
    let namespaces = std::fs::read_dir(scene.sandbox.dir.join("exec/netns"))
        .expect("the namespaces' folder")
        .count();
    assert_eq!(namespaces, 5, "the failed attach left a namespace");
    scene.detach_and_check(&attachments[1], None);
    let again = scene.attach(NetworkMode::Bridge, &[]);
    assert_eq!(ip_of(&again), ip_of(&attachments[1]));
}

#[test]
fn attachments_ids_rules_and_proxies_survive_reopening_the_networks() {
    let mut scene = Scene::new(24);
    let records = scene.networks().list();
    let attachment = scene.attach(NetworkMode::Bridge, &["127.0.0.1::7000"]);
    let id = attachment.container_id.clone();
    let rules = scene.networks().firewall_listing().expect("rules");
    let pid = proxy_pid(scene.networks(), &id).expect("the proxy runs");
    // A TCP server in the container's namespace answering two connections with one line.
    let server = in_namespace_of(&attachment, || {
        let listener = TcpListener::bind("0.0.0.0:7000").expect("listens");
        for _ in 0..2 {
            let (mut stream, _) = listener.accept().expect("a connection");
            stream.write_all(b"hello\n").expect("writes");
        }
    });
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, host_port(&attachment, 0)));
    let read_line = || {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let mut line = String::new();
            if let Ok(mut stream) = TcpStream::connect(address)
                && stream.read_to_string(&mut line).is_ok()
                && !line.is_empty()
            {
                return line;
            }
            assert!(Instant::now() < deadline, "no answer from {address}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    assert_eq!(read_line(), "hello\n");

    let reopened = scene.networks.reopen();
    assert_eq!(reopened.list(), records, "ids and creation times are kept");
    assert_eq!(reopened.attachment(&id), Some(attachment.clone()));
    assert_eq!(reopened.firewall_listing().expect("rules"), rules);
    assert_eq!(
        proxy_pid(reopened, &id),
        Some(pid),
        "the proxy outlived the engine"
    );
    let next = reopened
        .attach(&new_container_id(), NetworkMode::Bridge, &[])
        .expect("attaches");
    assert_ne!(
        ip_of(&next),
        ip_of(&attachment),
        "the kept address is not handed out"
    );
    assert_eq!(read_line(), "hello\n");
    server.join().expect("the server ends");

    // A proxy that died is started again on the same port, once its sockets are closed
    // (its threads may still be closing them while its zombie leader shows it dead).
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is the test's proxy.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let deadline = Instant::now() + READY_TIMEOUT;
    while proxy_pid(reopened, &id).is_some() {
        assert!(Instant::now() < deadline, "the proxy survived SIGKILL");
        std::thread::sleep(Duration::from_millis(1));
    }
    reopened.revive_proxies().expect("revives");
    let revived = proxy_pid(reopened, &id).expect("a new proxy");
    assert_ne!(revived, pid);
    assert!(tcp_port_taken(host_port(&attachment, 0)));
    scene.detach_and_check(&attachment, Some(revived));
}

#[test]
fn a_port_in_use_is_refused_with_dockers_message_and_the_attach_leaves_nothing() {
    let scene = Scene::new(24);
    let holder = TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = holder.local_addr().expect("its address").port();
    let id = new_container_id();
    let taken: PortRequest = format!("127.0.0.1:{port}:80").parse().expect("a request");
    let refused = scene
        .networks()
        .attach(&id, NetworkMode::Bridge, &[taken])
        .expect_err("the port is taken");
    assert_eq!(
        refused.to_string(),
        format!("Bind for 127.0.0.1:{port} failed: port is already allocated")
    );
    assert_eq!(refused.kind(), ErrorKind::System);
    assert!(scene.networks().attachment(&id).is_none());
    assert!(!scene.networks().namespace_path(&id).exists());
    let bridge_ports = format!("/sys/class/net/{}/brif", scene.slot.bridge());
    let veths: Vec<String> = std::fs::read_dir(bridge_ports)
        .expect("the bridge's ports")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(veths.is_empty(), "{veths:?}");
    let listing = scene.networks().firewall_listing().expect("rules");
    assert!(!listing.contains("DNAT"), "{listing}");
}

#[test]
fn none_gives_a_namespace_with_only_loopback_and_host_the_hosts_own_interfaces() {
    let scene = Scene::new(24);
    let image = scene.sandbox.import_busybox();
    let none = scene.attach(NetworkMode::None, &["8080:80"]);
    assert_eq!(none.namespace(), NetworkNamespace::New);
    assert!(
        none.ports.is_empty(),
        "ports are dropped as dockerd drops them"
    );
    assert_eq!(none.network_name, "none");
    let (code, output) = run_sh(&scene.sandbox, &image, none.namespace(), "ip -o link");
    assert_eq!(code, 0, "{output}");
    let links: Vec<&str> = output.lines().collect();
    assert_eq!(links.len(), 1, "{output}");
    assert!(links[0].contains(": lo: <LOOPBACK,UP"), "{output}");
    let host = scene.attach(NetworkMode::Host, &[]);
    assert_eq!(host.namespace(), NetworkNamespace::Host);
    let (code, output) = run_sh(&scene.sandbox, &image, host.namespace(), "ip -o link");
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains(&format!(": {}: ", scene.slot.bridge())),
        "{output}"
    );
    let none_network = scene.networks().find("none").expect("none");
    assert_eq!(
        scene.networks().endpoints(&none_network.id),
        vec![none.clone()]
    );
    for attachment in [&none, &host] {
        scene
            .networks()
            .detach(&attachment.container_id)
            .expect("detaches");
    }
    assert!(scene.networks().attachments().is_empty());
}

#[test]
fn the_default_networks_have_stable_ids_and_dockers_bridge_options() {
    let mut scene = Scene::new(24);
    let networks = scene.networks();
    let records = networks.list();
    let names: Vec<&str> = records.iter().map(|record| record.name.as_str()).collect();
    assert_eq!(names, ["bridge", "host", "none"]);
    let drivers: Vec<&str> = records.iter().map(|record| record.driver()).collect();
    assert_eq!(drivers, ["bridge", "host", "null"]);
    for record in &records {
        assert_eq!(record.id.len(), 64);
        assert!(record.id.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    let bridge = &records[0];
    let option = |key: &str| bridge.options.get(key).map(String::as_str);
    assert_eq!(
        option("com.docker.network.bridge.name"),
        Some(scene.slot.bridge().as_str())
    );
    assert_eq!(
        option("com.docker.network.bridge.default_bridge"),
        Some("true")
    );
    assert_eq!(option("com.docker.network.driver.mtu"), Some("1500"));
    let subnet = scene.slot.subnet(24);
    assert_eq!(bridge.ipam.len(), 1);
    assert_eq!(bridge.ipam[0].subnet, subnet);
    assert_eq!(bridge.ipam[0].gateway, subnet.first_host());
    assert!(records[1].ipam.is_empty() && records[1].options.is_empty());
    for name_or_id in [&bridge.id[..12], &bridge.id, "bridge"] {
        assert_eq!(&networks.find(name_or_id).expect("found"), bridge);
    }
    let missing = networks.find("nosuchnetwork").expect_err("unknown");
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert_eq!(missing.to_string(), "network nosuchnetwork not found");
    assert_eq!(scene.networks.reopen().list(), records);
}

#[test]
fn a_subnet_overlapping_a_host_route_is_refused_naming_the_route_and_no_bridge_is_made() {
    let sandbox = Sandbox::new();
    let slot = Slot::claim();
    // The upper half of the slot's /24, so no other slot's subnet is touched.
    let half = Subnet::new(
        Ipv4Addr::from(u32::from(slot.subnet(24).network()) + 128),
        25,
    )
    .expect("a subnet");
    let _route = ExtraRoute::new(&slot.route_link(), half);
    let refused =
        Networks::open(network_support::config(&slot, &sandbox.dir, 24)).expect_err("overlaps");
    assert_eq!(refused.kind(), ErrorKind::Conflict);
    let wanted = format!(
        "overlaps the host's route to {half} on {}",
        slot.route_link()
    );
    assert!(refused.to_string().contains(&wanted), "{refused}");
    assert!(!link::link_exists(&slot.bridge()));
}

#[test]
fn removing_the_bridge_leaves_no_device_chain_or_jump_and_is_refused_with_endpoints() {
    let scene = Scene::new(24);
    let (bridge, chain) = (scene.slot.bridge(), scene.slot.chain());
    assert!(link::link_exists(&bridge));
    assert!(iptables_save().contains(&format!("-j {chain}")));
    let attachment = scene.attach(NetworkMode::Bridge, &["127.0.0.1::80"]);
    let busy = scene.networks().remove_bridge().expect_err("an endpoint");
    assert_eq!(busy.kind(), ErrorKind::Conflict);
    scene.detach_and_check(&attachment, None);
    scene.networks().remove_bridge().expect("removes");
    assert!(!link::link_exists(&bridge));
    let saved = iptables_save();
    assert!(!saved.contains(&chain), "{saved}");
    assert!(!saved.contains(&bridge), "{saved}");
}
