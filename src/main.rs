fn main() -> anyhow::Result<()> {
    let files: Vec<_> = std::fs::read_dir("/tmp/rsei-demo/modis/MOD09A1")?.map(|e| e.unwrap().path()).take(200).collect();
    let t = std::time::Instant::now();
    let mut n = 0;
    for f in &files {
        let src = rsei_io::LayerSource::from_file(f, None)?;
        let r = rsei_io::LayerReader::open(&src)?;
        let w = r.grid().full_window();
        if f.to_string_lossy().contains("sur_refl_b") { n += r.read_f32(w)?.len(); } else { n += r.read_raw_u32(w)?.len(); }
    }
    println!("200 identify+open+read {:?} {n}", t.elapsed());
    use rsei_io::*;
    let s = rsei::demo::scene::Scene::new(42);
    let r = rsei_core::Raster::new(s.grid.clone(), vec![5i16; s.grid.len()])?;
    std::fs::create_dir_all("/tmp/wt")?;
    let mut o = WriteOptions::default().with_format(RasterFormat::GTiff).with_compression(Compression::Deflate, Some(1));
    o.overviews = Overviews::None;
    let t = std::time::Instant::now();
    if std::env::var("W").is_ok() { for k in 0..100 { write_raster(&std::path::PathBuf::from(format!("/tmp/wt/{k}.tif")), &r, &o)?; } }
    println!("100 writes {:?}", t.elapsed());
    Ok(())
}
