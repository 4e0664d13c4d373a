//! What the types guarantee, and what is checked at run time.
//!
//! This module holds no code: it is the place where misuse that does not
//! compile is pinned down, each case as a `compile_fail` doc-test beside its
//! *twin*, the same program with the misuse removed, which compiles and runs.
//! The twin shows the failure is the stated one and not a typo. Each
//! `compile_fail` names the error code it must produce (rustdoc checks the code
//! on nightly: `cargo +nightly test --doc guarantees`).
//!
//! # A `Var` cannot outlive its tape
//!
//! A [`Var`] borrows its [`Tape`], so the tape cannot be dropped, moved or
//! [cleared](crate::Tape::clear) while a `Var` of it is still used.
//!
//! ```compile_fail,E0597
//! let x = {
//!     let tape = dualtape::Tape::<f64>::new();
//!     tape.var(&[1.0, 2.0])
//! }; // error[E0597]: `tape` does not live long enough
//! let _y = x * 2.0;
//! ```
//!
//! Twin: take the values out of the block, not the `Var`.
//!
//! ```
//! let xs = {
//!     let tape = dualtape::Tape::<f64>::new();
//!     let x = tape.var(&[1.0, 2.0]);
//!     (x * 2.0).value().to_vec()
//! };
//! assert_eq!(xs, [2.0, 4.0]);
//! ```
//!
//! ```compile_fail,E0505
//! let tape = dualtape::Tape::<f64>::new();
//! let x = tape.var(&[1.0]);
//! drop(tape); // error[E0505]: cannot move out of `tape` because it is borrowed
//! let _y = x * 2.0;
//! ```
//!
//! Twin: drop the tape after its last `Var`.
//!
//! ```
//! let tape = dualtape::Tape::<f64>::new();
//! let x = tape.var(&[1.0]);
//! let _y = x * 2.0;
//! drop(tape);
//! ```
//!
//! # A `Var` does not survive `clear`
//!
//! [`Tape::clear`] takes `&mut self`: every `Var` recorded before it is dead
//! after it (its node no longer exists).
//!
//! ```compile_fail,E0502
//! let mut tape = dualtape::Tape::<f64>::new();
//! let x = tape.var(&[1.0]);
//! tape.clear(); // error[E0502]: cannot borrow `tape` as mutable because it is also borrowed as immutable
//! let _y = x * 2.0;
//! ```
//!
//! Twin: record the input again after the clear.
//!
//! ```
//! let mut tape = dualtape::Tape::<f64>::new();
//! let x = tape.var(&[1.0]);
//! let _y = x * 2.0;
//! tape.clear();
//! let x = tape.var(&[1.0]);
//! assert_eq!((x * 2.0).item(), 2.0);
//! ```
//!
//! # `Grads` and borrowed values do not survive `clear`
//!
//! [`Grads`] and [`Var::value`] borrow the tape's buffers, which `clear`
//! rewinds and the next recording overwrites.
//!
//! ```compile_fail,E0502
//! let mut tape = dualtape::Tape::<f64>::new();
//! let x = tape.var(&[3.0]);
//! let g = (x * x).backward();
//! tape.clear(); // error[E0502]: cannot borrow `tape` as mutable because it is also borrowed as immutable
//! let _dx = g.wrt(x)[0];
//! ```
//!
//! Twin: read (or copy out) the gradient, then clear.
//!
//! ```
//! let mut tape = dualtape::Tape::<f64>::new();
//! let x = tape.var(&[3.0]);
//! let g = (x * x).backward();
//! let dx = g.wrt(x).to_vec();
//! drop(g);
//! tape.clear();
//! assert_eq!(dx, [6.0]);
//! ```
//!
//! ```compile_fail,E0502
//! let mut tape = dualtape::Tape::<f64>::new();
//! let x = tape.var(&[3.0]);
//! let v = x.value();
//! tape.clear(); // error[E0502]: cannot borrow `tape` as mutable because it is also borrowed as immutable
//! assert_eq!(v[0], 3.0);
//! ```
//!
//! Twin: copy the values out before clearing.
//!
//! ```
//! let mut tape = dualtape::Tape::<f64>::new();
//! let x = tape.var(&[3.0]);
//! let v = x.value().to_vec();
//! tape.clear();
//! assert_eq!(v[0], 3.0);
//! ```
//!
//! # A `Var` does not cross threads
//!
//! A tape records through shared references (interior mutability, no locks),
//! so it is not `Sync`, and a `Var` (which holds `&Tape`) is not `Send`: it
//! cannot be handed to another thread while its tape is used on this one.
//! `std::thread::scope` is used here so that the only obstacle is `Send`
//! (a `'static` bound would fail for another reason).
//!
//! ```compile_fail,E0277
//! let tape = dualtape::Tape::<f64>::new();
//! let x = tape.var(&[1.0, 2.0]);
//! std::thread::scope(|s| {
//!     s.spawn(move || x.sum().item()); // error[E0277]: `RefCell<..>` cannot be shared between threads safely
//!     let _y = x * 2.0;
//! });
//! ```
//!
//! Twin: send the values; each thread records on a tape of its own.
//!
//! ```
//! let tape = dualtape::Tape::<f64>::new();
//! let x = tape.var(&[1.0, 2.0]);
//! let xs = x.value().to_vec();
//! std::thread::scope(|s| {
//!     let sum = s.spawn(move || {
//!         let tape = dualtape::Tape::<f64>::new();
//!         tape.var(&xs).sum().item()
//!     });
//!     let _y = x * 2.0;
//!     assert_eq!(sum.join().unwrap(), 3.0);
//! });
//! ```
//!
//! The same holds for the tape by reference and for [`Grads`]:
//!
//! ```compile_fail,E0277
//! let tape = dualtape::Tape::<f64>::new();
//! let x = tape.var(&[1.0]);
//! let g = (x * x).backward();
//! std::thread::scope(|s| {
//!     s.spawn(|| g.wrt(x)[0]); // error[E0277]: `Grads` is not `Sync`
//! });
//! ```
//!
//! Twin: copy the gradient out first.
//!
//! ```
//! let tape = dualtape::Tape::<f64>::new();
//! let x = tape.var(&[1.0]);
//! let g = (x * x).backward();
//! let dx = g.wrt(x).to_vec();
//! std::thread::scope(|s| {
//!     assert_eq!(s.spawn(|| dx[0]).join().unwrap(), 2.0);
//! });
//! ```
//!
//! # Checked at run time instead
//!
//! What the types cannot see panics at the caller's line with a message that
//! names the op and the lengths: a `Var` of another tape (both tapes have the
//! same type), lengths that differ with neither being 1, a seed of the wrong
//! length, [`Var::backward`] on a vector, recording while a [`Var::value`] or
//! [`Grads`] borrow is alive, and recording past the tape's node limit
//! ([`Tape::with_node_limit`], at most [`crate::tape::MAX_NODES`]).
//!
//! [`Var`]: crate::Var
//! [`Var::value`]: crate::Var::value
//! [`Var::backward`]: crate::Var::backward
//! [`Tape`]: crate::Tape
//! [`Tape::clear`]: crate::Tape::clear
//! [`Tape::with_node_limit`]: crate::Tape::with_node_limit
//! [`Grads`]: crate::Grads
