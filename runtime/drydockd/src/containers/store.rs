//! The containers drydockd knows, by id and name, each with its record (kept on disk) and
//! the signals its waiters listen to.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use drydock_engine::containers::{ContainerRuntime, ContainerState};
use drydock_engine::durable;
use drydock_runtime::server::ServerError;
use tokio::sync::watch;

use drydock_engine::timestamp::Timestamp;

use super::record::{ContainerRecord, HealthStatus, Status};

/// One container: its record, and a counter bumped on every change of its state (start,
/// exit, removal) for waiters.
pub struct Container {
    /// The container's id.
    pub id: String,
    record: Mutex<ContainerRecord>,
    changes: watch::Sender<u64>,
    /// Attaches made before the next start: the monitor holds the output for them.
    pub pending_attaches: AtomicUsize,
    /// How many exits were recorded since the daemon opened (what `next-exit` waits on).
    pub exits: AtomicU64,
    /// Serialises start, stop, kill, restart and removal of this container.
    pub operation: tokio::sync::Mutex<()>,
    file: PathBuf,
    /// Set while the container's folder is being removed: changes (its exit, recorded as
    /// it is killed) stay in memory and write nothing into the folder.
    removing: AtomicBool,
}

impl Container {
    fn new(record: ContainerRecord, data_root: &Path) -> Container {
        Container {
            id: record.id.clone(),
            file: ContainerRecord::file(data_root, &record.id),
            record: Mutex::new(record),
            changes: watch::channel(0).0,
            pending_attaches: AtomicUsize::new(0),
            exits: AtomicU64::new(0),
            operation: tokio::sync::Mutex::new(()),
            removing: AtomicBool::new(false),
        }
    }

    /// From now on changes are not written to disk: the container's folder is about to be
    /// removed. Returns once no write is under way (writes happen under the record's lock).
    pub fn begin_removal(&self) {
        let _record = self.lock();
        self.removing.store(true, Ordering::SeqCst);
    }

    /// Writes changes to disk again: the removal failed and the container stays.
    pub fn abort_removal(&self) {
        let _record = self.lock();
        self.removing.store(false, Ordering::SeqCst);
    }

    /// The record, locked (never across an await).
    pub fn lock(&self) -> MutexGuard<'_, ContainerRecord> {
        self.record.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of the record.
    pub fn snapshot(&self) -> ContainerRecord {
        self.lock().clone()
    }

    /// Changes the record, writes it to disk, and wakes the waiters.
    ///
    /// # Errors
    ///
    /// A 500 when the record cannot be written.
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut ContainerRecord) -> T,
    ) -> Result<T, ServerError> {
        self.change(change, true)
    }

    /// Like [`Container::update`], for changes the container's monitor records too (it
    /// started, it exited) or that a restart need not find (removal in progress): the file
    /// is replaced atomically but not synced, sparing two disk flushes per change.
    ///
    /// # Errors
    ///
    /// A 500 when the record cannot be written.
    pub fn update_running_state<T>(
        &self,
        change: impl FnOnce(&mut ContainerRecord) -> T,
    ) -> Result<T, ServerError> {
        self.change(change, false)
    }

    fn change<T>(
        &self,
        change: impl FnOnce(&mut ContainerRecord) -> T,
        sync: bool,
    ) -> Result<T, ServerError> {
        let (result, saved) = {
            let mut record = self.lock();
            let result = change(&mut record);
            let saved = if self.removing.load(Ordering::SeqCst) {
                Ok(())
            } else if sync {
                durable::write_json_atomically(&self.file, &*record)
            } else {
                durable::replace_json_atomically(&self.file, &*record)
            };
            (result, saved)
        };
        self.changes.send_modify(|generation| *generation += 1);
        saved.map_err(crate::errors::api_error)?;
        Ok(result)
    }

    /// A receiver that wakes on the container's next change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Wakes the waiters without changing the record (the container was removed).
    pub fn notify(&self) {
        self.changes.send_modify(|generation| *generation += 1);
    }
}

/// Every container, by id; names are unique.
pub struct ContainerStore {
    data_root: PathBuf,
    by_id: Mutex<BTreeMap<String, Arc<Container>>>,
}

impl ContainerStore {
    /// Reads every container record under the data root and reconciles it with what the
    /// runtime knows: a container whose monitor recorded an exit while the daemon was away is
    /// exited with that code; one whose monitor vanished is exited with 255 (its fate is
    /// unknown, as dockerd reports containers lost in a crash).
    ///
    /// # Errors
    ///
    /// When the containers folder cannot be listed.
    pub fn load(
        data_root: &Path,
        runtime: &ContainerRuntime,
    ) -> drydock_engine::Result<ContainerStore> {
        let dir = data_root.join("containers");
        std::fs::create_dir_all(&dir).map_err(|source| io_error("create", &dir, source))?;
        let mut by_id = BTreeMap::new();
        let entries = std::fs::read_dir(&dir).map_err(|source| io_error("list", &dir, source))?;
        for entry in entries.flatten() {
            let Some(id) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let file = ContainerRecord::file(data_root, &id);
            let mut record: ContainerRecord = match durable::read_json(&file) {
                Ok(Some(record)) => record,
                Ok(None) => continue,
                Err(e) => {
                    log::warn!("skipping container {id}: {e}");
                    continue;
                }
            };
            if record.state.status.is_running() || record.state.status == Status::Restarting {
                reconcile(&mut record, runtime);
                if let Err(e) = durable::write_json_atomically(&file, &record) {
                    log::warn!("cannot save container {id}: {e}");
                }
            }
            by_id.insert(id, Arc::new(Container::new(record, data_root)));
        }
        Ok(ContainerStore {
            data_root: data_root.to_path_buf(),
            by_id: Mutex::new(by_id),
        })
    }

    fn map(&self) -> MutexGuard<'_, BTreeMap<String, Arc<Container>>> {
        self.by_id.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every container, in no particular order.
    pub fn all(&self) -> Vec<Arc<Container>> {
        self.map().values().cloned().collect()
    }

    /// The container `reference` names: a full id, a name (with or without `/`), or a unique
    /// id prefix, as dockerd resolves them.
    ///
    /// # Errors
    ///
    /// 404 `No such container: <reference>`; 400 for an ambiguous prefix.
    pub fn get(&self, reference: &str) -> Result<Arc<Container>, ServerError> {
        let map = self.map();
        if let Some(container) = map.get(reference) {
            return Ok(Arc::clone(container));
        }
        let name = reference.strip_prefix('/').unwrap_or(reference);
        if let Some(container) = map.values().find(|c| c.lock().name == name) {
            return Ok(Arc::clone(container));
        }
        let mut matches = map
            .range(reference.to_owned()..)
            .take_while(|(id, _)| id.starts_with(reference));
        match (matches.next(), matches.next()) {
            (Some((_, container)), None) if !reference.is_empty() => Ok(Arc::clone(container)),
            (Some(_), Some(_)) => Err(ServerError::bad_request(format!(
                "multiple IDs found with provided prefix: {reference}"
            ))),
            _ => Err(ServerError::not_found(format!(
                "No such container: {reference}"
            ))),
        }
    }

    /// Adds a new container, refusing a name in use with Docker's 409. A record without a
    /// name gets a generated one, picked while the store is locked, so that creates running at
    /// the same time never pick the same name (and never fail for a name nobody asked for).
    ///
    /// # Errors
    ///
    /// 409 when the name is taken; 500 when the record cannot be written.
    pub fn insert(&self, mut record: ContainerRecord) -> Result<Arc<Container>, ServerError> {
        let mut map = self.map();
        if record.name.is_empty() {
            let seed = u64::from_str_radix(&crate::daemon::random_hex(8), 16).unwrap_or(7);
            record.name = crate::names::generate(seed, |candidate| {
                check_name_free(&map, candidate, None).is_err()
            });
        }
        check_name_free(&map, &record.name, None)?;
        let container = Arc::new(Container::new(record, &self.data_root));
        if let Some(dir) = container.file.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|source| crate::errors::api_error(io_error("create", dir, source)))?;
        }
        let record = container.snapshot();
        durable::write_json_atomically(&container.file, &record)
            .map_err(crate::errors::api_error)?;
        map.insert(container.id.clone(), Arc::clone(&container));
        Ok(container)
    }

    /// Renames a container, refusing a name in use.
    ///
    /// # Errors
    ///
    /// 409 when the name is taken.
    pub fn rename(&self, container: &Container, name: String) -> Result<String, ServerError> {
        let map = self.map();
        check_name_free(&map, &name, Some(&container.id))?;
        container.update(|record| std::mem::replace(&mut record.name, name))
    }

    /// Refuses a name another container has, as [`ContainerStore::insert`] would, so a
    /// create can stop before it makes anything.
    ///
    /// # Errors
    ///
    /// 409 when the name is taken.
    pub fn check_name_free(&self, name: &str) -> Result<(), ServerError> {
        check_name_free(&self.map(), name, None)
    }

    /// Forgets a removed container (its folders are already gone) and wakes its waiters.
    pub fn forget(&self, id: &str) {
        if let Some(container) = self.map().remove(id) {
            container.notify();
        }
    }

    /// Whether the store still has the container.
    pub fn contains(&self, id: &str) -> bool {
        self.map().contains_key(id)
    }

    /// How many containers are in each state: running, paused, stopped.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for container in self.map().values() {
            match container.lock().state.status {
                Status::Running | Status::Restarting => counts.0 += 1,
                Status::Paused => counts.1 += 1,
                _ => counts.2 += 1,
            }
        }
        counts
    }
}

/// Docker's 409 when a container other than `except` is called `name`.
fn check_name_free(
    map: &BTreeMap<String, Arc<Container>>,
    name: &str,
    except: Option<&str>,
) -> Result<(), ServerError> {
    match map
        .values()
        .find(|c| Some(c.id.as_str()) != except && c.lock().name == name)
    {
        Some(other) => Err(ServerError::conflict(format!(
            "Conflict. The container name \"/{name}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
            other.id
        ))),
        None => Ok(()),
    }
}

/// Brings a record that says the container runs in line with what its monitor left.
fn reconcile(record: &mut ContainerRecord, runtime: &ContainerRuntime) {
    match runtime.state(&record.id) {
        Ok(ContainerState::Running { pid }) => {
            record.state.pid = pid;
            let paused = runtime
                .runc()
                .state(&record.id)
                .is_ok_and(|state| state.status == "paused");
            record.state.status = if paused {
                Status::Paused
            } else {
                Status::Running
            };
            record.state.monitor_pid =
                drydock_engine::monitor::monitor_pid(&runtime.state_dir(&record.id)).unwrap_or(0);
        }
        Ok(ContainerState::Exited(exit)) => {
            record_exit(record, exit.exit_code, exit.finished_at);
        }
        Ok(ContainerState::Lost) | Err(_) => {
            record_exit(record, 255, drydock_engine::timestamp::Timestamp::now());
        }
    }
}

/// Records an exit that happened while the daemon was away: its health checks stopped with
/// it, which leaves it unhealthy, as an exit the daemon sees does.
fn record_exit(record: &mut ContainerRecord, exit_code: i32, finished_at: Timestamp) {
    record.state.status = Status::Exited;
    record.state.exit_code = exit_code;
    record.state.finished_at = Some(finished_at);
    record.state.pid = 0;
    record.state.monitor_pid = 0;
    if let Some(health) = record.state.health.as_mut() {
        health.status = HealthStatus::Unhealthy;
    }
}

/// An engine I/O error naming what was done to which path.
fn io_error(action: &str, path: &Path, source: std::io::Error) -> drydock_engine::Error {
    drydock_engine::Error::Io {
        context: format!("{action} {}", path.display()),
        source,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use drydock_engine::containers::RuntimeConfig;

    use super::*;

    /// A store on a new folder under /tmp, and the folder (removed by the caller).
    fn store(name: &str) -> (ContainerStore, PathBuf) {
        let dir = PathBuf::from(format!(
            "/tmp/drydockd-unit-store-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let runtime = ContainerRuntime::new(RuntimeConfig {
            data_root: dir.join("data"),
            exec_root: dir.join("exec"),
            runtime: PathBuf::from("runc"),
            monitor: PathBuf::from("drydockd"),
            monitor_args: Vec::new(),
            cgroup_parent: "/drydockd-unit".to_owned(),
        })
        .expect("the runtime's folders");
        let store = ContainerStore::load(&dir.join("data"), &runtime).expect("an empty store");
        (store, dir)
    }

    fn record(name: &str) -> ContainerRecord {
        ContainerRecord {
            id: crate::daemon::random_hex(32),
            name: name.to_owned(),
            created: drydock_engine::timestamp::Timestamp::now(),
            image: "busybox".to_owned(),
            image_id: format!("sha256:{}", "0".repeat(64)),
            config: Default::default(),
            host_config: Default::default(),
            state: Default::default(),
            restart_count: 0,
            exec_ids: Vec::new(),
            mounts: Default::default(),
            volumes_populated: false,
            volumes_mounted: false,
        }
    }

    #[test]
    fn unnamed_containers_inserted_at_once_each_get_a_valid_name_of_their_own() {
        let (store, dir) = store("generated");
        let inserted: Vec<Result<String, String>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        (0..25)
                            .map(|_| {
                                store
                                    .insert(record(""))
                                    .map(|container| container.lock().name.clone())
                                    .map_err(|e| e.message)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| worker.join().expect("a worker does not panic"))
                .collect()
        });
        let _ = std::fs::remove_dir_all(&dir);
        let names: Vec<String> = inserted
            .into_iter()
            .collect::<Result<_, _>>()
            .expect("no unnamed insert is refused");
        assert!(
            names.iter().all(|name| crate::names::is_valid(name)),
            "{names:?}"
        );
        let distinct: BTreeSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), 200, "{names:?}");
    }

    #[test]
    fn a_requested_name_in_use_is_refused_with_409_and_the_first_keeps_it() {
        let (store, dir) = store("named");
        let first = store.insert(record("web")).expect("the first web");
        let second = store.insert(record("web"));
        let _ = std::fs::remove_dir_all(&dir);
        let refused = second.err().expect("the second web is refused");
        assert_eq!(refused.status.as_u16(), 409);
        assert!(refused.message.contains(&first.id), "{}", refused.message);
        assert_eq!(store.all().len(), 1);
    }

    #[test]
    fn changes_during_a_removal_stay_in_memory_and_write_nothing_into_the_folder() {
        let (_store, dir) = store("removal");
        let root = dir.join("data");
        let record = record("removal");
        std::fs::create_dir_all(root.join("containers").join(&record.id)).expect("the folder");
        let container = Container::new(record, &root);
        container.update(|r| r.restart_count = 1).expect("written");
        assert!(container.file.exists(), "a change is written");
        std::fs::remove_file(&container.file).expect("removed");
        container.begin_removal();
        container.update(|r| r.restart_count = 2).expect("kept");
        assert_eq!(container.snapshot().restart_count, 2, "kept in memory");
        assert!(!container.file.exists(), "nothing written while removing");
        container.abort_removal();
        container.update(|r| r.restart_count = 3).expect("written");
        assert!(
            container.file.exists(),
            "written again once the removal failed"
        );
        std::fs::remove_dir_all(&dir).expect("cleaned up");
    }
}
