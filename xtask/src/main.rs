//! drydock's build tasks.

fn main() {
    println!("xtask: in progress");
}
