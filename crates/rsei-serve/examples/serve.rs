//! Serves a results folder: `cargo run -p rsei-serve --example serve -- RESULTS_DIR [ADDR]`
//! (what `rsei serve` does).

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(root) = args.next() else {
        eprintln!("usage: serve RESULTS_DIR [ADDR]");
        std::process::exit(2);
    };
    let mut opts = rsei_serve::ServeOptions::new(root);
    if let Some(a) = args.next() {
        match a.parse() {
            Ok(a) => opts.bind = a,
            Err(e) => {
                eprintln!("{a}: {e}");
                std::process::exit(2);
            }
        }
    }
    if let Err(e) = rsei_serve::serve(opts, |addr| println!("serving on http://{addr}/")) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
