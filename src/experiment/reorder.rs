//! A bounded reorder window: workers finish tasks in any order, a consumer takes the
//! results in task order, and no more than `capacity` tasks are ever started but not yet
//! taken. That is what lets the runner stream results to disk in grid order (whatever the
//! thread count) with memory bounded by the window rather than by the grid.
//!
//! Tasks are numbered `0..len`. A worker [`claim`](ReorderWindow::claim)s the next number,
//! computes, and [`finish`](ReorderWindow::finish)es it with its result (`None` for a task
//! that produced nothing, e.g. a run cut short by a stop signal); the consumer calls
//! [`next`](ReorderWindow::next) until it returns `None`. A claim waits while the next
//! number is `capacity` or more ahead of the consumer; since numbers are claimed in order,
//! the task the consumer waits for is always already running, so the window cannot
//! deadlock as long as every claimed task is finished.
//!
//! ```
//! use initlab::experiment::reorder::ReorderWindow;
//! let window = ReorderWindow::new(5, 2);
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         while let Some(i) = window.claim() {
//!             window.finish(i, Some(i * 10));
//!         }
//!     });
//!     let mut taken = Vec::new();
//!     while let Some(result) = window.next() {
//!         taken.push(result);
//!     }
//!     assert_eq!(taken, [Some(0), Some(10), Some(20), Some(30), Some(40)]);
//! });
//! ```

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};

/// See the module docs.
pub struct ReorderWindow<T> {
    state: Mutex<State<T>>,
    /// Signalled whenever a task finishes, the consumer takes one, or the window closes.
    changed: Condvar,
    len: usize,
    capacity: usize,
}

struct State<T> {
    /// The next task number to hand out.
    next_claim: usize,
    /// The next task number the consumer takes.
    next_out: usize,
    /// Finished tasks the consumer has not taken yet (at most `capacity`).
    done: BTreeMap<usize, Option<T>>,
    /// No more tasks are handed out (the consumer gave up).
    closed: bool,
}

impl<T> ReorderWindow<T> {
    /// A window over tasks `0..len` holding at most `capacity` (at least 1) started but
    /// untaken tasks.
    pub fn new(len: usize, capacity: usize) -> Self {
        ReorderWindow {
            state: Mutex::new(State {
                next_claim: 0,
                next_out: 0,
                done: BTreeMap::new(),
                closed: false,
            }),
            changed: Condvar::new(),
            len,
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A worker that panicked while holding the lock left consistent state (every
        // update below is a single assignment or insertion), so the poison is ignored.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State<T>>) -> MutexGuard<'a, State<T>> {
        self.changed.wait(guard).unwrap_or_else(|p| p.into_inner())
    }

    /// The next task to compute, waiting while the window is full; `None` once every task
    /// has been handed out or the window was closed.
    pub fn claim(&self) -> Option<usize> {
        let mut state = self.lock();
        loop {
            if state.closed || state.next_claim >= self.len {
                return None;
            }
            if state.next_claim < state.next_out + self.capacity {
                state.next_claim += 1;
                return Some(state.next_claim - 1);
            }
            state = self.wait(state);
        }
    }

    /// Hands in the result of task `index` (claimed before).
    pub fn finish(&self, index: usize, result: Option<T>) {
        let mut state = self.lock();
        if !state.closed {
            state.done.insert(index, result);
        }
        drop(state);
        self.changed.notify_all();
    }

    /// The result of the next task in order, waiting for it: `Some(result)` (the result
    /// itself `None` if the task produced nothing), or `None` after the last task or once
    /// the window was closed.
    pub fn next(&self) -> Option<Option<T>> {
        let mut state = self.lock();
        loop {
            if state.closed || state.next_out >= self.len {
                return None;
            }
            let index = state.next_out;
            if let Some(result) = state.done.remove(&index) {
                state.next_out += 1;
                drop(state);
                // A claim may now fit in the window.
                self.changed.notify_all();
                return Some(result);
            }
            state = self.wait(state);
        }
    }

    /// Stops handing out tasks and drops the results not taken (the consumer failed and
    /// will take no more); tasks already running still finish.
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.done.clear();
        drop(state);
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Three workers finishing tasks in scrambled order (task `i` sleeps a pseudo-random
    /// number of microseconds): the consumer still gets 0, 1, 2, … and never more than
    /// `capacity` tasks are started but untaken (+ 1 here: the consumer counts a task as
    /// taken just after the window does, so a claim can see the count one behind).
    #[test]
    fn results_come_in_order_and_the_window_bounds_what_is_in_flight() {
        let (len, capacity) = (200, 4);
        let window = ReorderWindow::new(len, capacity);
        let taken = AtomicUsize::new(0);
        let worst = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    while let Some(i) = window.claim() {
                        let ahead = i + 1 - taken.load(Ordering::SeqCst);
                        worst.fetch_max(ahead, Ordering::SeqCst);
                        let pause = (i * 7919) % 300;
                        std::thread::sleep(std::time::Duration::from_micros(pause as u64));
                        window.finish(i, (i % 5 != 0).then_some(i));
                    }
                });
            }
            for expected in 0..len {
                let result = window.next().expect("a result per task");
                assert_eq!(result, (expected % 5 != 0).then_some(expected));
                taken.fetch_add(1, Ordering::SeqCst);
            }
            assert_eq!(window.next(), None);
        });
        let worst = worst.into_inner();
        assert!(worst <= capacity + 1, "{worst} tasks in flight");
        assert!(worst > 1, "the workers never overlapped");
    }

    #[test]
    fn closing_stops_the_claims() {
        let window = ReorderWindow::<usize>::new(10, 2);
        assert_eq!(window.claim(), Some(0));
        window.close();
        assert_eq!(window.claim(), None);
        window.finish(0, Some(0));
        assert_eq!(window.next(), None);
    }
}
