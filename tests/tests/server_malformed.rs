//! Requests the server must refuse before any implementation sees them, each
//! with the status and `{"message": …}` the daemon gives; and the headers
//! and `/_ping` every daemon answers with.

use drydock_server::recording::{Answer, Recording};
use serde_json::{Value, json};

async fn serve() -> (String, Recording) {
    let recording = Recording::new(|_, _| Answer {
        status: 200,
        body: json!([]),
        headers: Default::default(),
    });
    let router = drydock_server::router_with_config(
        recording.clone(),
        drydock_server::ServerConfig {
            body_limit: 64 * 1024,
            ..Default::default()
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(drydock_runtime::server::listen::serve_tcp(listener, router));
    (base, recording)
}

struct Case {
    what: &'static str,
    method: &'static str,
    path: &'static str,
    body: Option<String>,
    status: u16,
    message: &'static str,
}

fn case(
    what: &'static str,
    method: &'static str,
    path: &'static str,
    body: Option<&str>,
    status: u16,
    message: &'static str,
) -> Case {
    Case {
        what,
        method,
        path,
        body: body.map(str::to_owned),
        status,
        message,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_the_daemons_status_and_message() {
    let (base, recording) = serve().await;
    let huge = format!("{{\"Image\":\"{}\"}}", "x".repeat(70 * 1024));
    let cases = vec![
        case(
            "version below the minimum",
            "GET",
            "/v1.12/info",
            None,
            400,
            "client version 1.12 is too old. Minimum supported API version is 1.23, please upgrade your client to a newer version",
        ),
        case(
            "version above the maximum",
            "GET",
            "/v1.34/info",
            None,
            400,
            "client version 1.34 is too new. Maximum supported API version is 1.33",
        ),
        case(
            "no such route",
            "GET",
            "/nosuch",
            None,
            404,
            "page not found",
        ),
        case(
            "not a version prefix",
            "GET",
            "/v1.x/info",
            None,
            404,
            "page not found",
        ),
        case(
            "operation newer than the version",
            "GET",
            "/v1.24/secrets",
            None,
            404,
            "page not found",
        ),
        case(
            "operation newer than the version, by a prefix of 1.29",
            "GET",
            "/v1.29/configs",
            None,
            404,
            "page not found",
        ),
        case(
            "no route for the method",
            "PUT",
            "/containers/json",
            None,
            404,
            "page not found",
        ),
        case(
            "number that is not a number",
            "GET",
            "/containers/json?limit=ten",
            None,
            400,
            "invalid value for query parameter \"limit\": \"ten\" is not a number",
        ),
        case(
            "filters that are not JSON",
            "GET",
            "/containers/json?filters=%7Bstatus",
            None,
            400,
            "invalid query parameter \"filters\": bad filters",
        ),
        case(
            "filters of the wrong shape",
            "GET",
            "/images/json?filters=%7B%22dangling%22%3A%22true%22%7D",
            None,
            400,
            "filter \"dangling\" must be a list of strings or an object of booleans",
        ),
        case(
            "body that is not JSON",
            "POST",
            "/containers/create",
            Some("{\"Image\": "),
            400,
            "invalid JSON in the request body",
        ),
        case(
            "body field of the wrong type",
            "POST",
            "/containers/create",
            Some("{\"Image\": 5}"),
            400,
            "invalid type: integer `5`, expected a string",
        ),
        case(
            "required body missing",
            "POST",
            "/containers/create",
            None,
            400,
            "missing body parameter \"body\"",
        ),
        case(
            "body over the size limit",
            "POST",
            "/containers/create",
            Some(&huge),
            413,
            "request body is larger than the 65536-byte limit",
        ),
    ];
    let client = reqwest::Client::new();
    let mut failures = Vec::new();
    for case in &cases {
        let method = reqwest::Method::from_bytes(case.method.as_bytes()).expect("a method");
        let mut request = client.request(method, format!("{base}{}", case.path));
        if let Some(body) = &case.body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.clone());
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let message = body["message"].as_str().unwrap_or_default();
        if status != case.status
            || !message.contains(case.message)
            || content_type != "application/json"
        {
            failures.push(format!(
                "{}: {} {} answered {status} {content_type} {body}, expected {} with {:?}",
                case.what, case.method, case.path, case.status, case.message
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        recording.take_calls(),
        Vec::new(),
        "a malformed request reached the implementation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_daemon_headers() {
    let (base, _recording) = serve().await;
    let client = reqwest::Client::new();
    for path in ["/v1.25/containers/json", "/nosuch", "/v1.12/info", "/_ping"] {
        let response = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("answers");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("Api-Version"), "1.33", "{path}");
        assert_eq!(header("Docker-Experimental"), "false", "{path}");
        assert_eq!(header("Ostype"), "linux", "{path}");
        assert!(header("Server").starts_with("drydock/"), "{path}");
        assert!(header("Server").ends_with(" (linux)"), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_answers_ok_uncached_with_and_without_a_version() {
    let (base, recording) = serve().await;
    let client = reqwest::Client::new();
    for path in ["/_ping", "/v1.23/_ping", "/v1.33/_ping"] {
        let response = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert_eq!(
            response.headers()["Cache-Control"],
            "no-cache, no-store, must-revalidate"
        );
        assert_eq!(response.headers()["Pragma"], "no-cache");
        assert_eq!(response.text().await.expect("a body"), "OK");
        let head = client
            .head(format!("{base}{path}"))
            .send()
            .await
            .expect("answers");
        assert_eq!(head.status().as_u16(), 200, "{path}");
        assert_eq!(head.headers()["Api-Version"], "1.33");
    }
    assert!(recording.take_calls().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_names_with_registry_and_slashes_reach_the_implementation_whole() {
    let (base, recording) = serve().await;
    let client = reqwest::Client::new();
    let response = client
        .post(format!(
            "{base}/v1.33/images/reg.example:5000/team/app:1.0/tag?repo=other%2Fname&tag=2"
        ))
        .send()
        .await
        .expect("answers");
    assert!(response.status().is_success() || response.status().as_u16() == 500);
    let calls = recording.take_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].operation, "ImageTag");
    assert_eq!(
        calls[0].request,
        json!({ "name": "reg.example:5000/team/app:1.0", "repo": "other/name", "tag": "2" })
    );
}
