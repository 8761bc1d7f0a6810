//! The two servers under load: the real `profiled` (its own runtime, so it can be closed and reopened on
//! the same data directory like a restarted process) and the floor, a minimal HTTP/1.1 server on the same
//! stack (tokio, hyper through `axum::serve`, keep-alive, no TLS) that answers a fixed body with no work
//! behind it.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Router;
use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::config::Config;

/// How long a stopping server may take to let its connections go.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds a runtime shaped like the one `profiled`'s `main` builds: one worker per core.
fn server_runtime(thread_name: &str) -> anyhow::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(thread_name)
        .build()
        .context("cannot build a server runtime")
}

type ServeTask = JoinHandle<std::io::Result<()>>;

fn spawn_serve(runtime: &Runtime, listener: TcpListener, router: Router) -> (oneshot::Sender<()>, ServeTask) {
    let (stop_sender, stop_receiver) = oneshot::channel::<()>();
    let task = runtime.spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop_receiver.await;
            })
            .await
    });
    (stop_sender, task)
}

async fn stop_serving(stop: oneshot::Sender<()>, task: ServeTask) {
    let _ = stop.send(());
    let abort = task.abort_handle();
    if tokio::time::timeout(STOP_TIMEOUT, task).await.is_err() {
        abort.abort();
    }
}

/// A running `profiled` with its state, in a runtime of its own.
#[derive(Debug)]
pub(crate) struct RunningServer {
    runtime: Runtime,
    pub(crate) state: AppState,
    pub(crate) address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: ServeTask,
}

impl RunningServer {
    /// Opens the store and the suggest index in `config.data_dir` (catching the index up) and serves on
    /// `config.listen`. Returns the server and how long opening the state took.
    pub(crate) fn start(config: Config) -> anyhow::Result<(RunningServer, Duration)> {
        let runtime = server_runtime("profiled-server")?;
        let started = Instant::now();
        let state = runtime.block_on(AppState::open(config))?;
        let open_time = started.elapsed();
        let listener = runtime.block_on(TcpListener::bind(state.config.listen))?;
        let address = listener.local_addr()?;
        let router = crate::api::build_router(state.clone());
        let (stop, task) = spawn_serve(&runtime, listener, router);
        Ok((RunningServer { runtime, state, address, stop, task }, open_time))
    }

    /// Runs `future` on the server's runtime (for direct library calls such as bootstrapping passwords).
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Stops serving, closes the store and drops the runtime with every background task (the suggest
    /// indexer), as a process exit would. Returns how long it took.
    pub(crate) fn stop(self) -> Duration {
        let started = Instant::now();
        let RunningServer { runtime, state, stop, task, .. } = self;
        runtime.block_on(async {
            stop_serving(stop, task).await;
            state.store.close().await;
        });
        drop(state);
        runtime.shutdown_timeout(STOP_TIMEOUT);
        started.elapsed()
    }
}

/// Answers every request with the same body, after reading the request body like a real handler must.
async fn fixed_answer(State(body): State<Bytes>, _request_body: Bytes) -> Response {
    ([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

/// The runtime that hosts floor servers.
#[derive(Debug)]
pub(crate) struct FloorServers {
    runtime: Runtime,
}

/// A floor server answering one fixed body.
#[derive(Debug)]
pub(crate) struct Floor {
    pub(crate) address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: ServeTask,
}

impl FloorServers {
    /// Builds the floor runtime (shaped like the real server's).
    pub(crate) fn new() -> anyhow::Result<FloorServers> {
        Ok(FloorServers { runtime: server_runtime("profiled-floor")? })
    }

    /// Starts a floor server on 127.0.0.1 that answers `body` to every request.
    pub(crate) fn start(&self, body: Bytes) -> anyhow::Result<Floor> {
        let listener = self.runtime.block_on(TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))))?;
        let address = listener.local_addr()?;
        let router = Router::new().fallback(fixed_answer).with_state(body);
        let (stop, task) = spawn_serve(&self.runtime, listener, router);
        Ok(Floor { address, stop, task })
    }

    /// Stops a floor server.
    pub(crate) fn stop(&self, floor: Floor) {
        self.runtime.block_on(stop_serving(floor.stop, floor.task));
    }
}
