//! Terminals of a real drydockd, driven through the generated client: a resize of an exec's
//! TTY and of a container's own TTY reaches the process in it as a new size and a SIGWINCH,
//! as `docker exec -it` and `docker run -it` need when the user's window changes. The
//! processes run in busybox under the real runc. Needs root, runc and busybox-static.

mod support;

use std::time::Duration;

use drydock_client::models::{ContainerExecBody, ExecStartBody};
use drydock_client::{
    Client, ContainerExecParams, ContainerResizeParams, ExecInspectParams, ExecResizeParams,
    ExecStartParams,
};
use futures_util::StreamExt;
use serde_json::json;
use support::{DaemonProcess, create, eventually, start};

/// A shell script that says `ready` once it listens for SIGWINCH, then prints the terminal's
/// size when the signal comes and exits.
const PRINT_SIZE_ON_RESIZE: &str =
    "trap 'stty size; exit 0' WINCH; echo ready; while :; do sleep 0.05; done";

/// What a TTY container wrote so far (its log holds the terminal's raw bytes).
async fn tty_logs(client: &Client, id: &str) -> String {
    support::logs_of(client, id, true).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resized_exec_terminal_gives_its_process_the_new_size() {
    let (_daemon, client) = DaemonProcess::with_busybox("terminals-exec").await;
    let id = create(&client, "term-exec", json!({"Cmd": ["sleep", "300"]})).await;
    start(&client, &id).await;
    let exec = client
        .container_exec(ContainerExecParams {
            id: id.clone(),
            body: ContainerExecBody {
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                tty: Some(true),
                cmd: Some(vec![
                    "sh".to_owned(),
                    "-c".to_owned(),
                    PRINT_SIZE_ON_RESIZE.to_owned(),
                ]),
                ..ContainerExecBody::default()
            },
        })
        .await
        .expect("the exec is created")
        .id;
    let mut output = client
        .exec_start(ExecStartParams {
            id: exec.clone(),
            body: Some(ExecStartBody {
                tty: Some(true),
                ..ExecStartBody::default()
            }),
            tty: true,
        })
        .await
        .expect("the exec starts");
    let mut text = String::new();
    while !text.contains("ready") {
        let bytes = output.next().await.expect("more output").expect("bytes");
        text.push_str(&String::from_utf8_lossy(&bytes.payload));
    }
    client
        .exec_resize(ExecResizeParams {
            id: exec.clone(),
            h: 37,
            w: 111,
        })
        .await
        .expect("the exec's terminal is resized");
    while let Some(bytes) = output.next().await {
        text.push_str(&String::from_utf8_lossy(&bytes.expect("bytes").payload));
    }
    assert_eq!(text, "ready\r\n37 111\r\n");
    let inspect = client
        .exec_inspect(ExecInspectParams { id: exec })
        .await
        .expect("the exec inspects");
    assert_eq!(inspect.exit_code, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resized_container_terminal_gives_its_process_the_new_size() {
    let (_daemon, client) = DaemonProcess::with_busybox("terminals-run").await;
    let id = create(
        &client,
        "term-run",
        json!({"Tty": true, "Cmd": ["sh", "-c", PRINT_SIZE_ON_RESIZE]}),
    )
    .await;
    start(&client, &id).await;
    let limit = Duration::from_secs(30);
    assert!(
        eventually(limit, async || tty_logs(&client, &id)
            .await
            .contains("ready"))
        .await,
        "the container got ready: {}",
        tty_logs(&client, &id).await
    );
    client
        .container_resize(ContainerResizeParams {
            id: id.clone(),
            h: 21,
            w: 99,
        })
        .await
        .expect("the container's terminal is resized");
    assert!(
        eventually(limit, async || tty_logs(&client, &id)
            .await
            .contains("21 99"))
        .await,
        "the container printed its new size: {}",
        tty_logs(&client, &id).await
    );
}
