//! Written by drydock's corpus test (`tests/tests/corpus/live.rs`) into the crate generated
//! from the corpus document `nexmo-account` (OpenAPI 3.0, Vonage's account API): the
//! generated server, with the in-memory accounts below behind it, serves 127.0.0.1 and
//! answers the generated client.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use live_nexmo as nexmo;
use nexmo::client::{
    Client, CreateApiSecretParams, GetAccountBalanceParams, RetrieveApiSecretParams,
    RetrieveApiSecretsParams, RevokeApiSecretParams,
};
use nexmo::server::balance::{GetAccountBalanceRequest, GetAccountBalanceResponse};
use nexmo::server::secrets::{
    CreateApiSecretRequest, CreateApiSecretResponse, RetrieveApiSecretRequest,
    RetrieveApiSecretResponse, RetrieveApiSecretsRequest, RetrieveApiSecretsResponse,
    RevokeApiSecretRequest, RevokeApiSecretResponse,
};
use nexmo::server::{ApiVersion, ServerError};
use nexmo::{
    AccountBalance, CreateApiSecretResponse400, CreateApiSecretResponse400InvalidParametersItem,
    CreateSecretRequest, ErrorApiKeyNotFound, ErrorAuthenticationFailedAccountBalance,
    ErrorSecretIdNotFound, RetrieveApiSecretResponse404, RetrieveApiSecretsResponseEmbedded,
    SecretInfo, SecretMgmtLinks, SecretMgmtLinksSelf,
};

/// One account: its balance and its secrets (the secret's info and its text), oldest first.
struct Account {
    balance: f64,
    secrets: Vec<(SecretInfo, String)>,
}

/// Accounts by API key; secret ids count from 1 over all of them.
#[derive(Clone)]
struct Accounts(Arc<Mutex<(BTreeMap<String, Account>, u32)>>);

impl Accounts {
    /// One account, `abcd1234`, with 10.28 EUR and the secret `First-secret1`.
    fn new() -> Self {
        let accounts = Accounts(Arc::new(Mutex::new((BTreeMap::new(), 0))));
        accounts.with(|all, _| {
            all.insert(
                "abcd1234".into(),
                Account {
                    balance: 10.28,
                    secrets: Vec::new(),
                },
            )
        });
        accounts
            .add_secret("abcd1234", "First-secret1")
            .expect("the account exists");
        accounts
    }

    fn with<T>(&self, f: impl FnOnce(&mut BTreeMap<String, Account>, &mut u32) -> T) -> T {
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (accounts, last_id) = &mut *guard;
        f(accounts, last_id)
    }

    fn add_secret(&self, api_key: &str, secret: &str) -> Option<SecretInfo> {
        self.with(|accounts, last_id| {
            let account = accounts.get_mut(api_key)?;
            *last_id += 1;
            let id = format!("{last_id:08}-aaaa-bbbb-cccc-defdefdefdef");
            let info = SecretInfo {
                links: Some(SecretMgmtLinks {
                    self_: Some(SecretMgmtLinksSelf {
                        href: Some(format!("/accounts/{api_key}/secrets/{id}")),
                    }),
                }),
                created_at: Some(format!("2025-10-15T13:51:{:02}Z", *last_id)),
                id: Some(id),
            };
            account.secrets.push((info.clone(), secret.to_string()));
            Some(info)
        })
    }
}

/// The documented answer for an API key that is not an account's.
fn no_such_key(api_key: &str) -> Box<ErrorApiKeyNotFound> {
    Box::new(ErrorApiKeyNotFound {
        detail: format!("API key '{api_key}' does not exist, or you do not have access"),
        instance: "797a8f199c45014ab7b08bfe9cc1c12c".into(),
        title: "Invalid API Key".into(),
        r#type: "https://developer.nexmo.com/api-errors#invalid-api-key".into(),
    })
}

impl nexmo::server::Secrets for Accounts {
    async fn create_api_secret(
        &self,
        request: CreateApiSecretRequest,
        _version: ApiVersion,
    ) -> Result<CreateApiSecretResponse, ServerError> {
        let secret = &request.body.secret;
        // The document's rules: 8 to 25 characters, a lower case and an upper case letter, a digit.
        let valid = (8..=25).contains(&secret.chars().count())
            && secret.chars().any(|c| c.is_ascii_lowercase())
            && secret.chars().any(|c| c.is_ascii_uppercase())
            && secret.chars().any(|c| c.is_ascii_digit());
        if !valid {
            return Ok(CreateApiSecretResponse::Status400(Box::new(
                CreateApiSecretResponse400 {
                    title: Some("Bad Request".into()),
                    invalid_parameters: Some(vec![
                        CreateApiSecretResponse400InvalidParametersItem {
                            name: Some("secret".into()),
                            reason: Some("Does not meet complexity requirements".into()),
                        },
                    ]),
                    ..Default::default()
                },
            )));
        }
        Ok(match self.add_secret(&request.api_key, secret) {
            Some(info) => CreateApiSecretResponse::Status201(Box::new(info)),
            None => CreateApiSecretResponse::Status404(no_such_key(&request.api_key)),
        })
    }

    async fn retrieve_api_secret(
        &self,
        request: RetrieveApiSecretRequest,
        _version: ApiVersion,
    ) -> Result<RetrieveApiSecretResponse, ServerError> {
        let found = self.with(|accounts, _| {
            let Some(account) = accounts.get(&request.api_key) else {
                return Err(RetrieveApiSecretResponse404::ErrorApiKeyNotFound(
                    *no_such_key(&request.api_key),
                ));
            };
            account
                .secrets
                .iter()
                .find(|(info, _)| info.id.as_ref() == Some(&request.secret_id))
                .map(|(info, _)| info.clone())
                .ok_or_else(|| {
                    RetrieveApiSecretResponse404::ErrorSecretIdNotFound(ErrorSecretIdNotFound {
                        detail: format!("Secret ID '{}' does not exist", request.secret_id),
                        instance: "797a8f199c45014ab7b08bfe9cc1c12c".into(),
                        title: "Invalid Secret ID".into(),
                        r#type: "https://developer.nexmo.com/api-errors/account/secret-management#invalid-secret-id".into(),
                    })
                })
        });
        Ok(match found {
            Ok(info) => RetrieveApiSecretResponse::Status200(Box::new(info)),
            Err(error) => RetrieveApiSecretResponse::Status404(Box::new(error)),
        })
    }

    async fn retrieve_api_secrets(
        &self,
        request: RetrieveApiSecretsRequest,
        _version: ApiVersion,
    ) -> Result<RetrieveApiSecretsResponse, ServerError> {
        let api_key = &request.api_key;
        let secrets = self.with(|accounts, _| {
            let account = accounts.get(api_key)?;
            Some(
                account
                    .secrets
                    .iter()
                    .map(|(info, _)| info.clone())
                    .collect(),
            )
        });
        Ok(match secrets {
            Some(secrets) => {
                RetrieveApiSecretsResponse::Status200(Box::new(nexmo::RetrieveApiSecretsResponse {
                    embedded: Some(RetrieveApiSecretsResponseEmbedded {
                        secrets: Some(secrets),
                    }),
                    links: Some(SecretMgmtLinks {
                        self_: Some(SecretMgmtLinksSelf {
                            href: Some(format!("/accounts/{api_key}/secrets")),
                        }),
                    }),
                }))
            }
            None => RetrieveApiSecretsResponse::Status404(no_such_key(api_key)),
        })
    }

    async fn revoke_api_secret(
        &self,
        request: RevokeApiSecretRequest,
        _version: ApiVersion,
    ) -> Result<RevokeApiSecretResponse, ServerError> {
        let removed = self.with(|accounts, _| {
            let account = accounts.get_mut(&request.api_key)?;
            let before = account.secrets.len();
            account
                .secrets
                .retain(|(info, _)| info.id.as_ref() != Some(&request.secret_id));
            Some(account.secrets.len() < before)
        });
        Ok(match removed {
            Some(true) => RevokeApiSecretResponse::Status204,
            _ => RevokeApiSecretResponse::Status404(Box::new(
                nexmo::RevokeApiSecretResponse404::ErrorApiKeyNotFound(*no_such_key(
                    &request.api_key,
                )),
            )),
        })
    }
}

impl nexmo::server::Balance for Accounts {
    async fn get_account_balance(
        &self,
        request: GetAccountBalanceRequest,
        _version: ApiVersion,
    ) -> Result<GetAccountBalanceResponse, ServerError> {
        let balance = self.with(|accounts, _| {
            let account = accounts.get(&request.api_key)?;
            account
                .secrets
                .iter()
                .any(|(_, secret)| *secret == request.api_secret)
                .then_some(account.balance)
        });
        Ok(match balance {
            Some(value) => GetAccountBalanceResponse::Status200(Box::new(AccountBalance {
                auto_reload: Some(false),
                value: Some(value),
            })),
            None => GetAccountBalanceResponse::Status401(Box::new(
                ErrorAuthenticationFailedAccountBalance {
                    error_code: Some("401".into()),
                    error_code_label: Some("authentication failed".into()),
                },
            )),
        })
    }
}

impl nexmo::server::Configuration for Accounts {}

/// The body of an error answer with `status`, decoded as the model the document gives for it.
fn documented<T: serde::de::DeserializeOwned>(err: nexmo::client::Error, status: u16) -> T {
    assert_eq!(err.status(), Some(status), "{err}");
    err.body_as()
        .expect("an error answer")
        .unwrap_or_else(|e| panic!("not the documented {status} body: {e}"))
}

/// The detail of a documented 404 of `retrieveAPISecret`. The document's two 404 bodies have
/// the same fields, so the untagged model cannot tell them apart: the detail says which it is.
fn detail_of(not_found: RetrieveApiSecretResponse404) -> String {
    match not_found {
        RetrieveApiSecretResponse404::ErrorApiKeyNotFound(e) => e.detail,
        RetrieveApiSecretResponse404::ErrorSecretIdNotFound(e) => e.detail,
        RetrieveApiSecretResponse404::Other(other) => panic!("an undocumented body: {other}"),
    }
}

fn secret_of(api_key: &str, secret_id: &str) -> RetrieveApiSecretParams {
    RetrieveApiSecretParams {
        api_key: api_key.into(),
        secret_id: secret_id.into(),
    }
}

fn balance_with(api_secret: &str) -> GetAccountBalanceParams {
    GetAccountBalanceParams {
        api_key: "abcd1234".into(),
        api_secret: api_secret.into(),
    }
}

#[tokio::test]
async fn the_generated_client_drives_the_generated_server_over_tcp() {
    let accounts = Accounts::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port on 127.0.0.1");
    let address = listener.local_addr().expect("the listener has an address");
    let router = nexmo::server::router(accounts.clone());
    tokio::spawn(drydock_runtime::server::listen::serve_tcp(listener, router));
    let client = Client::with_base_url(&format!("http://{address}")).expect("a client");

    // Query parameters: the account's key and secret.
    let balance = client
        .get_account_balance(balance_with("First-secret1"))
        .await
        .expect("getAccountBalance");
    assert_eq!(balance.value, Some(10.28));
    let err = client
        .get_account_balance(balance_with("Second-secret2"))
        .await
        .expect_err("not a secret of the account yet");
    let refused: ErrorAuthenticationFailedAccountBalance = documented(err, 401);
    assert_eq!(
        refused.error_code_label,
        Some("authentication failed".into())
    );

    // Create: a JSON body; the account keeps the secret, so the balance answers to it now.
    let created = client
        .create_api_secret(CreateApiSecretParams {
            api_key: "abcd1234".into(),
            body: CreateSecretRequest {
                secret: "Second-secret2".into(),
            },
        })
        .await
        .expect("createAPISecret");
    let id = created.id.clone().expect("the new secret has an id");
    assert_eq!(
        created
            .links
            .as_ref()
            .and_then(|l| l.self_.as_ref()?.href.clone()),
        Some(format!("/accounts/abcd1234/secrets/{id}"))
    );
    let balance = client
        .get_account_balance(balance_with("Second-secret2"))
        .await
        .expect("the new secret authenticates");
    assert_eq!(balance.value, Some(10.28));
    let err = client
        .create_api_secret(CreateApiSecretParams {
            api_key: "abcd1234".into(),
            body: CreateSecretRequest {
                secret: "weak".into(),
            },
        })
        .await
        .expect_err("a weak secret");
    let invalid: CreateApiSecretResponse400 = documented(err, 400);
    assert_eq!(
        invalid
            .invalid_parameters
            .and_then(|p| p.first()?.name.clone()),
        Some("secret".into())
    );

    // Get and list, by path parameters.
    let got = client
        .retrieve_api_secret(secret_of("abcd1234", &id))
        .await
        .expect("retrieveAPISecret");
    assert_eq!(got, created);
    let listed = client
        .retrieve_api_secrets(RetrieveApiSecretsParams {
            api_key: "abcd1234".into(),
        })
        .await
        .expect("retrieveAPISecrets");
    let secrets = listed
        .embedded
        .and_then(|e| e.secrets)
        .expect("the list holds secrets");
    assert_eq!(secrets.len(), 2);
    assert_eq!(secrets[1], created);

    // Not found: 404s whose bodies are the documented errors.
    let err = client
        .retrieve_api_secrets(RetrieveApiSecretsParams {
            api_key: "nobody".into(),
        })
        .await
        .expect_err("no account nobody");
    let missing: ErrorApiKeyNotFound = documented(err, 404);
    assert_eq!(missing.title, "Invalid API Key");

    // A path parameter with a `/` is one segment: the server gets it whole.
    let err = client
        .retrieve_api_secret(secret_of("abcd1234", "no/such secret"))
        .await
        .expect_err("no such secret");
    let not_found: RetrieveApiSecretResponse404 = documented(err, 404);
    assert_eq!(
        detail_of(not_found),
        "Secret ID 'no/such secret' does not exist"
    );

    // Revoke, then the secret is gone.
    client
        .revoke_api_secret(RevokeApiSecretParams {
            api_key: "abcd1234".into(),
            secret_id: id.clone(),
        })
        .await
        .expect("revokeAPISecret");
    let err = client
        .retrieve_api_secret(secret_of("abcd1234", &id))
        .await
        .expect_err("a revoked secret");
    let not_found: RetrieveApiSecretResponse404 = documented(err, 404);
    assert_eq!(
        detail_of(not_found),
        format!("Secret ID '{id}' does not exist")
    );
    assert_eq!(
        accounts.with(|all, _| all["abcd1234"].secrets.len()),
        1,
        "the revoked secret is gone from the store"
    );
}
