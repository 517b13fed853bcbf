//! The swarm-mode areas (swarm, nodes, services, tasks, secrets, configs) and the plugin
//! and distribution areas, answered as a standalone dockerd that is not in swarm mode and
//! has no plugins answers them.

use drydock_runtime::ApiVersion;
use drydock_runtime::server::{ServerError, StatusCode};
use drydock_server::{configs, distribution, nodes, plugins, secrets, services, swarm, tasks};

use crate::daemon::Daemon;

/// dockerd's answer to a swarm-manager operation on a node outside a swarm (503).
pub fn not_a_manager() -> ServerError {
    ServerError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.",
    )
}

/// dockerd's answer to leaving or unlocking a swarm the node is not in (503).
fn not_in_swarm() -> ServerError {
    ServerError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "This node is not part of a swarm",
    )
}

/// drydock does not run swarm mode: joining or creating one is refused (503), as dockerd
/// refuses what its node cannot do, with a message that says why.
fn swarm_unsupported() -> ServerError {
    ServerError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "drydockd does not support swarm mode: this node stays a standalone engine",
    )
}

/// Implements the listed operations of an area with one answer.
macro_rules! answer_all {
    ($area:path, $module:ident, $answer:expr, $($method:ident: $request:ident => $response:ident),+ $(,)?) => {
        impl $area for Daemon {
            $(
                async fn $method(
                    &self,
                    _request: $module::$request,
                    _version: ApiVersion,
                ) -> Result<$module::$response, ServerError> {
                    Err($answer)
                }
            )+
        }
    };
}

answer_all!(drydock_server::Nodes, nodes, not_a_manager(),
    node_delete: NodeDeleteRequest => NodeDeleteResponse,
    node_inspect: NodeInspectRequest => NodeInspectResponse,
    node_list: NodeListRequest => NodeListResponse,
    node_update: NodeUpdateRequest => NodeUpdateResponse,
);

answer_all!(drydock_server::Services, services, not_a_manager(),
    service_create: ServiceCreateRequest => ServiceCreateResponse,
    service_delete: ServiceDeleteRequest => ServiceDeleteResponse,
    service_inspect: ServiceInspectRequest => ServiceInspectResponse,
    service_list: ServiceListRequest => ServiceListResponse,
    service_logs: ServiceLogsRequest => ServiceLogsResponse,
    service_update: ServiceUpdateRequest => ServiceUpdateResponse,
);

answer_all!(drydock_server::Tasks, tasks, not_a_manager(),
    task_inspect: TaskInspectRequest => TaskInspectResponse,
    task_list: TaskListRequest => TaskListResponse,
    task_logs: TaskLogsRequest => TaskLogsResponse,
);

answer_all!(drydock_server::Secrets, secrets, not_a_manager(),
    secret_create: SecretCreateRequest => SecretCreateResponse,
    secret_delete: SecretDeleteRequest => SecretDeleteResponse,
    secret_inspect: SecretInspectRequest => SecretInspectResponse,
    secret_list: SecretListRequest => SecretListResponse,
    secret_update: SecretUpdateRequest => SecretUpdateResponse,
);

answer_all!(drydock_server::Configs, configs, not_a_manager(),
    config_create: ConfigCreateRequest => ConfigCreateResponse,
    config_delete: ConfigDeleteRequest => ConfigDeleteResponse,
    config_inspect: ConfigInspectRequest => ConfigInspectResponse,
    config_list: ConfigListRequest => ConfigListResponse,
    config_update: ConfigUpdateRequest => ConfigUpdateResponse,
);

impl drydock_server::Swarm for Daemon {
    async fn swarm_inspect(
        &self,
        _request: swarm::SwarmInspectRequest,
        _version: ApiVersion,
    ) -> Result<swarm::SwarmInspectResponse, ServerError> {
        Err(not_a_manager())
    }

    async fn swarm_update(
        &self,
        _request: swarm::SwarmUpdateRequest,
        _version: ApiVersion,
    ) -> Result<swarm::SwarmUpdateResponse, ServerError> {
        Err(not_a_manager())
    }

    async fn swarm_unlockkey(
        &self,
        _request: swarm::SwarmUnlockkeyRequest,
        _version: ApiVersion,
    ) -> Result<swarm::SwarmUnlockkeyResponse, ServerError> {
        Err(not_a_manager())
    }

    async fn swarm_unlock(
        &self,
        _request: swarm::SwarmUnlockRequest,
        _version: ApiVersion,
    ) -> Result<swarm::SwarmUnlockResponse, ServerError> {
        Err(not_in_swarm())
    }

    async fn swarm_leave(
        &self,
        _request: swarm::SwarmLeaveRequest,
        _version: ApiVersion,
    ) -> Result<swarm::SwarmLeaveResponse, ServerError> {
        Err(not_in_swarm())
    }

    async fn swarm_init(
        &self,
        _request: swarm::SwarmInitRequest,
        _version: ApiVersion,
    ) -> Result<swarm::SwarmInitResponse, ServerError> {
        Err(swarm_unsupported())
    }

    async fn swarm_join(
        &self,
        _request: swarm::SwarmJoinRequest,
        _version: ApiVersion,
    ) -> Result<swarm::SwarmJoinResponse, ServerError> {
        Err(swarm_unsupported())
    }
}

/// dockerd's 404 for a plugin it does not have.
fn no_plugin(name: &str) -> ServerError {
    ServerError::not_found(format!("plugin \"{name}\" not found"))
}

/// Installing plugins needs a registry, which drydockd does not talk to.
fn no_registry(what: &str) -> ServerError {
    ServerError::internal(format!(
        "{what}: drydockd pulls and pushes nothing from registries"
    ))
}

impl drydock_server::Plugins for Daemon {
    async fn plugin_list(
        &self,
        request: plugins::PluginListRequest,
        _version: ApiVersion,
    ) -> Result<plugins::PluginListResponse, ServerError> {
        if let Some(filters) = &request.filters {
            for key in filters.keys() {
                if !matches!(key, "capability" | "enable") {
                    return Err(ServerError::bad_request(format!("Invalid filter '{key}'")));
                }
            }
        }
        Ok(plugins::PluginListResponse::Status200(Vec::new()))
    }

    async fn plugin_inspect(
        &self,
        request: plugins::PluginInspectRequest,
        _version: ApiVersion,
    ) -> Result<plugins::PluginInspectResponse, ServerError> {
        Err(no_plugin(&request.name))
    }

    async fn plugin_delete(
        &self,
        request: plugins::PluginDeleteRequest,
        _version: ApiVersion,
    ) -> Result<plugins::PluginDeleteResponse, ServerError> {
        Err(no_plugin(&request.name))
    }

    async fn plugin_enable(
        &self,
        request: plugins::PluginEnableRequest,
        _version: ApiVersion,
    ) -> Result<plugins::PluginEnableResponse, ServerError> {
        Err(no_plugin(&request.name))
    }

    async fn plugin_disable(
        &self,
        request: plugins::PluginDisableRequest,
        _version: ApiVersion,
    ) -> Result<plugins::PluginDisableResponse, ServerError> {
        Err(no_plugin(&request.name))
    }

    async fn plugin_set(
        &self,
        request: plugins::PluginSetRequest,
        _version: ApiVersion,
    ) -> Result<plugins::PluginSetResponse, ServerError> {
        Err(no_plugin(&request.name))
    }

    async fn plugin_push(
        &self,
        request: plugins::PluginPushRequest,
        _version: ApiVersion,
    ) -> Result<plugins::PluginPushResponse, ServerError> {
        Err(no_plugin(&request.name))
    }

    async fn plugin_upgrade(
        &self,
        request: plugins::PluginUpgradeRequest,
        _version: ApiVersion,
    ) -> Result<plugins::PluginUpgradeResponse, ServerError> {
        Err(no_plugin(&request.name))
    }

    async fn plugin_pull(
        &self,
        _request: plugins::PluginPullRequest,
        _version: ApiVersion,
    ) -> Result<plugins::PluginPullResponse, ServerError> {
        Err(no_registry("plugin pull"))
    }

    async fn get_plugin_privileges(
        &self,
        _request: plugins::GetPluginPrivilegesRequest,
        _version: ApiVersion,
    ) -> Result<plugins::GetPluginPrivilegesResponse, ServerError> {
        Err(no_registry("plugin privileges"))
    }

    async fn plugin_create(
        &self,
        _request: plugins::PluginCreateRequest,
        _version: ApiVersion,
    ) -> Result<plugins::PluginCreateResponse, ServerError> {
        Err(ServerError::bad_request(
            "drydockd runs no plugins: it cannot create one",
        ))
    }
}

impl drydock_server::Distribution for Daemon {
    async fn distribution_inspect(
        &self,
        _request: distribution::DistributionInspectRequest,
        _version: ApiVersion,
    ) -> Result<distribution::DistributionInspectResponse, ServerError> {
        Err(no_registry("distribution inspect"))
    }
}

impl drydock_server::Session for Daemon {}
