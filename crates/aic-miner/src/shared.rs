//! A searcher that outlives the Stratum sessions feeding it: the worker's switcher owns its
//! threads (parks and wakes them), while the pool client changes its work and where its shares
//! go as connections come and go.

use std::sync::{Arc, RwLock};

use crate::kernel::Kernel;
use crate::search::{SearchConfig, SearchError, Searcher, Share};
use crate::work::WorkTemplate;

/// Where a share goes: the current session's submitter.
pub type ShareRoute = Arc<dyn Fn(Share) + Send + Sync>;

/// A [`Searcher`] whose work and share destination change over its life.
pub struct SharedSearch {
    searcher: Arc<Searcher>,
    kernel: Arc<dyn Kernel>,
    route: Arc<RwLock<Option<ShareRoute>>>,
}

impl std::fmt::Debug for SharedSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSearch")
            .field("kernel", &self.kernel.name())
            .field("searcher", &self.searcher)
            .finish()
    }
}

impl SharedSearch {
    /// Starts the threads on `work` (until a pool's first job replaces it); shares found
    /// while no route is set are dropped.
    pub fn start(
        kernel: Arc<dyn Kernel>,
        work: WorkTemplate,
        config: SearchConfig,
    ) -> Result<Self, SearchError> {
        let route: Arc<RwLock<Option<ShareRoute>>> = Arc::new(RwLock::new(None));
        let to = Arc::clone(&route);
        let searcher = Searcher::start(Arc::clone(&kernel), work, config, move |share| {
            let current = to.read().unwrap_or_else(|p| p.into_inner()).clone();
            if let Some(send) = current {
                send(share);
            }
        })?;
        Ok(Self {
            searcher: Arc::new(searcher),
            kernel,
            route,
        })
    }

    /// The threads, for whoever pauses and resumes them.
    pub fn searcher(&self) -> &Arc<Searcher> {
        &self.searcher
    }

    /// The kernel the threads run.
    pub fn kernel(&self) -> &Arc<dyn Kernel> {
        &self.kernel
    }

    /// Sends shares to `route` from now on and switches the threads to `work`; returns the
    /// generation shares on `work` carry.
    pub fn set_work(&self, work: WorkTemplate, route: ShareRoute) -> Result<u64, SearchError> {
        *self.route.write().unwrap_or_else(|p| p.into_inner()) = Some(route);
        self.searcher.replace_work(work)
    }

    /// Drops shares from now on (the session that would submit them has ended).
    pub fn detach(&self) {
        *self.route.write().unwrap_or_else(|p| p.into_inner()) = None;
    }
}
