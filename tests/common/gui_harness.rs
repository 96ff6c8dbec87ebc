//! Shared helpers for the kittest GUI tests: build the app, wait for background jobs, type text.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use esm_workbench::gui::LaunchOptions;
use esm_workbench::gui::WorkbenchApp;
use esm_workbench::gui::view_slot::ViewSlot;

/// The window size of every GUI test (the size the smoke test's screenshots use too).
pub const WINDOW: [f32; 2] = [1280.0, 800.0];

/// Steps the app until `done` holds; background jobs finish on their own threads meanwhile.
/// The deadline is generous: a loaded machine may be slow (the residue map's job, alone about
/// a minute, took over 300 s beside the other GUI tests and a second test binary on 2 cores),
/// and nothing here is a timing test; a job that hangs still fails.
pub fn wait_until(
    harness: &mut Harness<'_, WorkbenchApp>,
    what: &str,
    done: impl Fn(&Harness<'_, WorkbenchApp>) -> bool,
) {
    let seconds = std::env::var("WB_WAIT_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(900);
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        harness.step();
        if done(harness) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // What the app says about files and jobs, to tell a failed write from a slow one.
    let said: Vec<String> = ["wrote", "Not saved", "exists", "failed", "error", "cannot"]
        .iter()
        .flat_map(|word| harness.query_all_by_label_contains(word))
        .filter_map(|node| node.accesskit_node().label())
        .collect();
    panic!("timed out waiting for {what}; the app says: {said:?}");
}

/// Replaces the text of the field labelled `label`.
pub fn set_text(harness: &mut Harness<'_, WorkbenchApp>, label: &str, text: &str) {
    harness
        .get_by_role_and_label(eframe::egui::accesskit::Role::TextInput, label)
        .set_text_value_accesskit(text);
    harness.run();
}

/// Frames `Harness::run` may take to settle. Background jobs wake the UI with each progress
/// message and on completion, and on a loaded machine those wake-ups spread over more frames
/// than kittest's default of 4 (a CI run failed with "would have settled after 6 steps"). A
/// UI that never settles still fails.
pub const SETTLE_STEPS: u64 = 32;

/// The workbench in a headless harness (no renderer: state and accesskit only). Feature stores
/// go to a folder of this test process unless `args.store` names one, never the user's cache.
pub fn app(args: LaunchOptions) -> Harness<'static, WorkbenchApp> {
    app_sized(args, WINDOW)
}

/// [`app`] in a window of `size` points.
pub fn app_sized(args: LaunchOptions, size: [f32; 2]) -> Harness<'static, WorkbenchApp> {
    build(args, size, WorkbenchApp::new)
}

/// [`app`] with `extra` views after the registered ones.
pub fn app_with_extra_views(
    args: LaunchOptions,
    extra: Vec<Box<dyn ViewSlot>>,
) -> Harness<'static, WorkbenchApp> {
    build(args, WINDOW, move |cc, args| {
        WorkbenchApp::with_extra_views(cc, args, extra)
    })
}

/// The harness around the app that `make` builds, stores and outputs kept in test folders.
fn build(
    mut args: LaunchOptions,
    size: [f32; 2],
    make: impl FnOnce(&eframe::CreationContext<'_>, LaunchOptions) -> WorkbenchApp + 'static,
) -> Harness<'static, WorkbenchApp> {
    static OUTPUTS: OnceLock<PathBuf> = OnceLock::new();
    if args.store.is_none() {
        args.store = Some(test_store_folder());
    }
    if args.outputs.is_none() {
        args.outputs = Some(emptied_once(&OUTPUTS, "outputs"));
    }
    Harness::builder()
        .with_size(size)
        .with_max_steps(SETTLE_STEPS)
        .build_eframe(move |cc| make(cc, args))
}

/// The feature-store folder of this test process's apps (a CLI run given it reuses their
/// stores).
pub fn test_store_folder() -> PathBuf {
    static STORES: OnceLock<PathBuf> = OnceLock::new();
    emptied_once(&STORES, "stores")
}

/// `target/tmp/<test binary>-<kind>`, emptied by the first test of this process that asks for
/// it. The tests of one run share it (stores are reused between them, as in the app), and each
/// run replaces the previous run's: a folder per process in the system's temp folder was never
/// removed and filled the disk (284 MB of stores per `gui` run).
fn emptied_once(cell: &'static OnceLock<PathBuf>, kind: &str) -> PathBuf {
    cell.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{}-{kind}", env!("CARGO_CRATE_NAME")));
        if let Err(error) = std::fs::remove_dir_all(&dir)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            panic!("cannot empty the test folder {}: {error}", dir.display());
        }
        dir
    })
    .clone()
}

/// Waits for the demo set and the bundled starter model, which load off the UI thread.
pub fn wait_for_demo(harness: &mut Harness<'_, WorkbenchApp>) {
    wait_until(harness, "the demo set and the starter model", |h| {
        h.query_by_label_contains("288 proteins").is_some()
            && h.query_by_label_contains("starter_esm1b_t4_128").is_some()
    });
}

/// The path of a file under the repository's `datasets/demo/`.
pub fn demo_file(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("datasets/demo")
        .join(name)
        .display()
        .to_string()
}

/// Scrolls the widget labelled `label` into view, clicks it and lets the frame settle.
pub fn click(harness: &mut Harness<'_, WorkbenchApp>, label: &str) {
    harness.get_by_label(label).scroll_to_me();
    harness.run();
    harness.get_by_label(label).click();
    harness.run();
}

/// Picks `column` in the map's "colour by" menu.
pub fn colour_by(harness: &mut Harness<'_, WorkbenchApp>, column: &str) {
    click(harness, "colour by");
    click(harness, column);
}

/// Opens `tab`, types `inputs` into `fields` (training and test set), clicks each of
/// `options` (e.g. "compare with untrained") and presses `train`, then waits for the probe's
/// "Best layer" line.
pub fn train_probe(
    harness: &mut Harness<'_, WorkbenchApp>,
    tab: &str,
    fields: [&str; 2],
    inputs: [&str; 2],
    options: &[&str],
    train: &str,
) {
    click(harness, tab);
    for (field, input) in fields.into_iter().zip(inputs) {
        set_text(harness, field, input);
    }
    for option in options {
        click(harness, option);
    }
    // The button waits for the inputs' estimate (off the UI thread): a click before is lost.
    wait_until(harness, &format!("{train} enabled"), |h| {
        !h.get_by_label(train).accesskit_node().is_disabled()
    });
    click(harness, train);
    wait_until(harness, train, |h| {
        h.query_by_label_contains("Best layer").is_some()
    });
    harness.run();
}

/// Types `path` into the field labelled `field`, clicks `button` and waits until the view says
/// it wrote that very path.
pub fn save_as(harness: &mut Harness<'_, WorkbenchApp>, field: &str, button: &str, path: &Path) {
    set_text(harness, field, &path.display().to_string());
    click(harness, button);
    let wrote = format!("wrote {}", path.display());
    wait_until(harness, &wrote, |h| h.query_by_label(&wrote).is_some());
}

/// Saves the figure whose export row is labelled `label` (e.g. "Map") to `path`.
/// With `ESM_WORKBENCH_FIGURE_DIR` set, a copy of each figure goes there too (named after the
/// test thread and the file), for a person to open and judge.
pub fn save_figure(harness: &mut Harness<'_, WorkbenchApp>, label: &str, path: &Path) {
    let button = format!("Save {} figure", label.to_lowercase());
    save_as(harness, &format!("{label} figure:"), &button, path);
    if let Some(dir) = std::env::var_os("ESM_WORKBENCH_FIGURE_DIR") {
        let dir = Path::new(&dir);
        std::fs::create_dir_all(dir).expect("the figure folder");
        let test = std::thread::current()
            .name()
            .unwrap_or("test")
            .replace("::", "_");
        let name = path.file_name().expect("a file name").to_string_lossy();
        std::fs::copy(path, dir.join(format!("{test}__{name}"))).expect("copy the figure");
    }
}

/// Saves the table whose export row is labelled `label` (e.g. "Accuracy") to `path` and returns
/// the written text (a CSV path is expected).
pub fn save_table(harness: &mut Harness<'_, WorkbenchApp>, label: &str, path: &Path) -> String {
    let button = format!("Save {} table", label.to_lowercase());
    save_as(harness, &format!("{label} table:"), &button, path);
    std::fs::read_to_string(path).expect("the table was written")
}

/// A small ASTRAL-format set at `path`: 4 superfamilies of 2 families with 3 random 60-residue
/// domains each (24 domains, seeded).
pub fn write_synthetic_astral(path: &Path) {
    let mut text = String::new();
    let mut seed = 7u64;
    for superfamily in 1..=4 {
        for family in 1..=2 {
            for k in 0..3 {
                let sequence: String = (0..60)
                    .map(|_| {
                        seed = seed
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        b"ACDEFGHIKLMNPQRSTVWY"[(seed >> 33) as usize % 20] as char
                    })
                    .collect();
                text.push_str(&format!(
                    ">d{superfamily}{family}{k}xa_ a.{superfamily}.1.{family} (A:) protein \
                     {superfamily}{family}{k} {{Homo sapiens [TaxId: 9606]}}\n{sequence}\n"
                ));
            }
        }
    }
    std::fs::write(path, text).expect("write the ASTRAL set");
}

/// Opens the Homology tab, scores `astral` and waits for the "`domains` domains" result line.
pub fn score_homology(harness: &mut Harness<'_, WorkbenchApp>, astral: &Path, domains: usize) {
    click(harness, "Homology");
    set_text(harness, "ASTRAL FASTA", &astral.display().to_string());
    click(harness, "Score homology");
    wait_until(harness, "the homology scores", |h| {
        h.query_by_label_contains(&format!("{domains} domains. Best layer"))
            .is_some()
    });
}
