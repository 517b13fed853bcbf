//! drydock-diff's tests: one hand-built change per kind with its expected JSON
//! entry, the breaking rules the brief names, and golden files of the rendered formats.

mod fixture;
mod formats;
mod kinds;
