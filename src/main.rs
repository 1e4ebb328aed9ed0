fn main() {
    println!("vti-agentx: under construction");
}
