//! Traffic through a real drydockd's default bridge, driven through the generated client as
//! `docker run -p` drives it: a published port answers on the host's loopback, and one
//! container reaches another at its bridge address. The servers are busybox `httpd` under
//! the real runc; the host side is a plain TCP client on 127.0.0.1. Needs root, runc,
//! iproute2, iptables and busybox-static.

mod support;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::Duration;

use serde_json::json;
use support::{DaemonProcess, create, inspect, run, start};

/// The newest API version, which every check here speaks.
const API: &str = "1.33";

/// A shell script that serves `text` as `/index.html` with busybox httpd on port 80.
fn serve(text: &str) -> String {
    format!("mkdir -p /www && echo {text} > /www/index.html && exec httpd -f -p 80 -h /www")
}

/// A port of the host's loopback that nothing listens on now.
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a port");
    listener.local_addr().expect("its address").port()
}

/// The body of `GET /` on 127.0.0.1:`port`, tried until the server answers (it starts
/// after the container does); an error after 300 tries, 100 ms apart.
fn fetch(port: u16) -> Result<String, String> {
    let mut last = String::new();
    for _ in 0..300 {
        match TcpStream::connect((Ipv4Addr::LOCALHOST, port)).and_then(|mut stream| {
            stream.set_read_timeout(Some(Duration::from_secs(10)))?;
            stream.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer)?;
            Ok(answer)
        }) {
            Ok(answer) if answer.starts_with("HTTP/1.") => {
                let body = answer.split_once("\r\n\r\n").map(|(_, body)| body);
                return Ok(body.unwrap_or_default().to_owned());
            }
            Ok(answer) => last = format!("an answer that is no HTTP: {answer:?}"),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(last)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_port_answers_on_the_host_and_containers_reach_each_other_on_the_bridge() {
    let daemon = DaemonProcess::start("traffic");
    let client = daemon.client(API).await;
    daemon.import_busybox(&client).await;
    let port = free_port();
    let web = create(
        &client,
        "web",
        json!({
            "Cmd": ["sh", "-c", serve("published")],
            "ExposedPorts": {"80/tcp": {}},
            "HostConfig": {"PortBindings": {
                "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": port.to_string()}]
            }}
        }),
    )
    .await;
    start(&client, &web).await;
    let answer = tokio::task::spawn_blocking(move || fetch(port))
        .await
        .expect("the fetch ran");
    assert_eq!(answer, Ok("published\n".to_owned()), "{}", daemon.log());
    let settings = inspect(&client, &web)
        .await
        .network_settings
        .expect("network settings");
    let web_ip = settings.ip_address.clone().unwrap_or_default();
    assert!(web_ip.parse::<Ipv4Addr>().is_ok(), "an address: {web_ip:?}");
    let ports = serde_json::to_value(&settings.ports).expect("ports serialise");
    assert_eq!(
        ports,
        json!({"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": port.to_string()}]})
    );
    // Another container on the bridge fetches from the first at its address.
    let script = format!(
        "for i in $(seq 300); do wget -q -O - http://{web_ip}/ && exit 0; sleep 0.1; done; exit 1"
    );
    let (code, output) = run(&client, "visitor", json!({"Cmd": ["sh", "-c", script]})).await;
    assert_eq!((code, output.as_str()), (0, "published\n"));
    // The port goes with the container: nothing answers there once it is removed.
    client
        .container_delete(drydock_client::ContainerDeleteParams {
            id: web,
            force: Some(true),
            ..drydock_client::ContainerDeleteParams::default()
        })
        .await
        .expect("removed");
    assert!(
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
        "the published port is closed with its container"
    );
}
