//! [`DropProxy`]: a TCP proxy on loopback that cuts one connection mid-response, for testing
//! clients that must reconnect and resume.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct ProxyState {
    target_port: u16,
    connections: AtomicUsize,
    open: AtomicUsize,
    max_open: AtomicUsize,
    cuts: AtomicUsize,
    /// (generation, n_bytes) while armed.
    armed: Mutex<Option<(u64, usize)>>,
    generation: Mutex<u64>,
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
}

/// A TCP proxy on 127.0.0.1 in front of `target_port`. Connections pass through untouched until
/// [`arm`](Self::arm)ed: then the first connection to pass more than `n_bytes` from the server to
/// the client (counted from the moment of arming, or from its start if it opened later) gets
/// exactly `n_bytes` of them and is then cut, both sides closed. That disarms the proxy.
pub struct DropProxy {
    pub port: u16,
    state: Arc<ProxyState>,
    accept: tokio::task::JoinHandle<()>,
}

impl DropProxy {
    pub async fn start(target_port: u16) -> DropProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(ProxyState {
            target_port,
            connections: AtomicUsize::new(0),
            open: AtomicUsize::new(0),
            max_open: AtomicUsize::new(0),
            cuts: AtomicUsize::new(0),
            armed: Mutex::new(None),
            generation: Mutex::new(0),
            tasks: Mutex::new(Vec::new()),
        });
        let st = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                st.connections.fetch_add(1, Ordering::SeqCst);
                let now_open = st.open.fetch_add(1, Ordering::SeqCst) + 1;
                st.max_open.fetch_max(now_open, Ordering::SeqCst);
                let st2 = st.clone();
                let task = tokio::spawn(async move {
                    let _open = OpenGuard(st2.clone());
                    if let Ok(server) = TcpStream::connect(("127.0.0.1", st2.target_port)).await {
                        relay(client, server, st2).await;
                    }
                });
                let mut tasks = st.tasks.lock().unwrap();
                tasks.retain(|t| !t.is_finished());
                tasks.push(task.abort_handle());
            }
        });
        DropProxy {
            port,
            state,
            accept,
        }
    }

    /// Cuts the next connection that passes more than `n_bytes` from server to client.
    pub fn arm(&self, n_bytes: usize) {
        let mut generation = self.state.generation.lock().unwrap();
        *generation += 1;
        *self.state.armed.lock().unwrap() = Some((*generation, n_bytes));
    }

    pub fn disarm(&self) {
        *self.state.armed.lock().unwrap() = None;
    }

    pub fn is_armed(&self) -> bool {
        self.state.armed.lock().unwrap().is_some()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.state.open.load(Ordering::SeqCst)
    }

    /// The most connections that were open at once.
    pub fn max_open(&self) -> usize {
        self.state.max_open.load(Ordering::SeqCst)
    }

    /// Connections cut so far.
    pub fn cuts(&self) -> usize {
        self.state.cuts.load(Ordering::SeqCst)
    }
}

/// Counts a connection closed however its task ends (finished or aborted).
struct OpenGuard(Arc<ProxyState>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Drop for DropProxy {
    fn drop(&mut self) {
        self.accept.abort();
        for task in self.state.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

async fn relay(client: TcpStream, server: TcpStream, state: Arc<ProxyState>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = async move {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
        let _ = server_write.shutdown().await;
    };
    // Returns true when the connection was cut.
    let downstream = async move {
        let mut buf = vec![0u8; 16 * 1024];
        let mut seen_generation = 0u64;
        let mut count = 0usize;
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    let _ = client_write.shutdown().await;
                    return false;
                }
                Ok(n) => n,
            };
            let mut pass = n;
            let mut cut = false;
            {
                let mut armed = state.armed.lock().unwrap();
                if let Some((generation, limit)) = *armed {
                    if generation != seen_generation {
                        seen_generation = generation;
                        count = 0;
                    }
                    if count + n > limit {
                        pass = limit - count;
                        cut = true;
                        *armed = None;
                        state.cuts.fetch_add(1, Ordering::SeqCst);
                    } else {
                        count += n;
                    }
                }
            }
            if client_write.write_all(&buf[..pass]).await.is_err() {
                return false;
            }
            if cut {
                let _ = client_write.flush().await;
                return true;
            }
        }
    };
    tokio::pin!(upstream);
    tokio::pin!(downstream);
    let mut upstream_done = false;
    loop {
        tokio::select! {
            _ = &mut upstream, if !upstream_done => upstream_done = true,
            cut = &mut downstream => {
                if !cut && !upstream_done {
                    upstream.await;
                }
                // Returning drops all four halves: both connections close.
                return;
            }
        }
    }
}
