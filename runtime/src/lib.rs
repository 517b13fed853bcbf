//! # drydock-runtime: the hand-written half of drydock's Docker client and server
//!
//! What generated code links against: API versions and negotiation, errors,
//! and Docker's stream formats.
