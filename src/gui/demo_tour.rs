//! The demo tour (`esm-workbench gui --tour DIR`): the app drives itself through the demo flow
//! in its real window (data table, embedding map, SS8 probe, contact probe, homology), saves a
//! screenshot of each view as it is on screen, and closes. The smoke test
//! (`tests/smoke/gui_demo.sh`) runs it under Xvfb for a person to look at the images.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc};

use eframe::egui;

use super::session::DATA_TAB;

/// How the tour ended, read by [`super::run`] after the window closes.
pub type TourOutcome = Arc<Mutex<Option<Result<Vec<PathBuf>, String>>>>;

/// Frames drawn after a view's result arrives and before its screenshot (textures and plot
/// bounds settle in the first frames).
const SETTLE_FRAMES: u32 = 3;

/// How often a waiting tour looks again.
const WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// Where the tour is within one stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopPhase {
    /// The stop's job must be started (the app does it and reports back).
    Start,
    /// Waiting for the stop's job to end.
    Running,
    /// The result is shown; frames are drawn before the screenshot.
    Settling(u32),
    /// A screenshot was requested; waiting for the pixels.
    Shooting,
}

/// What the tour needs of the app it drives: the tabs, the views' jobs and the workspace.
pub trait TourHost {
    /// Why the model or the data did not load, when one failed.
    fn load_failure(&self) -> Option<String>;
    /// Whether the model and the data are both loaded.
    fn workspace_ready(&self) -> bool;
    /// Opens the tab `stop` (a view's id or the data table).
    fn show_tab(&mut self, stop: &str);
    /// Why the view `stop` cannot run in the tour (an input it needs is missing), if so.
    fn skip_reason(&self, stop: &str) -> Option<String>;
    /// Starts the job of the view `stop` with its own settings, as its button would.
    fn start_view(&mut self, ctx: &egui::Context, stop: &str);
    /// How the job of the view `stop` ended (`None` while it runs).
    fn view_outcome(&self, stop: &str) -> Option<Result<(), String>>;
}

/// The tour's state: which stop, what phase, and the screenshots saved so far.
pub struct DemoTour {
    out_dir: PathBuf,
    /// The tabs visited, in order: `(id, title)` (the title names the screenshot).
    stops: Vec<(&'static str, &'static str)>,
    stop: usize,
    phase: StopPhase,
    saved: Vec<PathBuf>,
    shots: Option<mpsc::Receiver<Result<PathBuf, String>>>,
    /// Set when a stop failed: the tour ends after that stop's screenshot.
    failure: Option<String>,
    outcome: TourOutcome,
    /// When the process asked for the window, for the start-up times the tour prints.
    launched: std::time::Instant,
    /// Whether the first frame's time was printed.
    first_frame_seen: bool,
}

impl DemoTour {
    /// A tour of `stops` (`(id, title)` of each tab, in order) saving into `out_dir` (created
    /// if missing) and reporting into `outcome`; `launched` is when the window was asked for.
    pub fn new(
        out_dir: PathBuf,
        outcome: TourOutcome,
        launched: std::time::Instant,
        stops: Vec<(&'static str, &'static str)>,
    ) -> Self {
        Self {
            out_dir,
            stops,
            stop: 0,
            phase: StopPhase::Start,
            saved: Vec::new(),
            shots: None,
            failure: None,
            outcome,
            launched,
            first_frame_seen: false,
        }
    }

    /// One frame of the tour over `host`: open the stop's tab, start its job, wait for the
    /// result, then settle and take the screenshot (the data table needs no job).
    pub fn drive(&mut self, ctx: &egui::Context, host: &mut impl TourHost) {
        if let Some(stop) = self.current() {
            match self.phase {
                StopPhase::Start => self.start_stop(ctx, host, stop),
                StopPhase::Running => {
                    let outcome = if stop == DATA_TAB {
                        Some(Ok(()))
                    } else {
                        host.view_outcome(stop)
                    };
                    match outcome {
                        None => ctx.request_repaint_after(WAIT),
                        Some(Ok(())) => self.result_shown(),
                        Some(Err(e)) => self.fail_after_screenshot(format!("{stop}: {e}")),
                    }
                }
                StopPhase::Settling(_) | StopPhase::Shooting => {}
            }
        }
        self.frame(ctx);
    }

    /// Starts `stop` once the model and data are loaded (or ends the tour if one failed).
    fn start_stop(&mut self, ctx: &egui::Context, host: &mut impl TourHost, stop: &str) {
        if let Some(e) = host.load_failure() {
            return self.fail_after_screenshot(e);
        }
        if !host.workspace_ready() {
            ctx.request_repaint_after(WAIT);
            return;
        }
        host.show_tab(stop);
        if stop == DATA_TAB {
            self.report_ready("model and data loaded");
            return self.result_shown();
        }
        if let Some(reason) = host.skip_reason(stop) {
            println!("tour: {stop} not run: {reason}");
            return self.result_shown();
        }
        host.start_view(ctx, stop);
        self.started();
    }

    /// The view of the current stop (`None` once the tour is over).
    pub fn current(&self) -> Option<&'static str> {
        self.stops.get(self.stop).map(|(id, _)| *id)
    }

    /// Prints how long after launch something became ready (start-up time, measured in the
    /// real window).
    pub fn report_ready(&self, what: &str) {
        println!(
            "tour: {what} {:.0} ms after launch",
            self.launched.elapsed().as_secs_f64() * 1e3
        );
    }

    /// The app started the stop's job.
    fn started(&mut self) {
        self.phase = StopPhase::Running;
    }

    /// The stop's job ended (or the stop needs none): settle, then take the screenshot.
    fn result_shown(&mut self) {
        self.phase = StopPhase::Settling(0);
    }

    /// The stop cannot run (its job failed, or an input is missing): the tour ends with `reason`
    /// after a screenshot of the view as it is, error message included.
    fn fail_after_screenshot(&mut self, reason: String) {
        self.failure = Some(reason);
        self.phase = StopPhase::Settling(0);
    }

    /// Advances settling and screenshots by one frame; closes the window when the tour is over.
    fn frame(&mut self, ctx: &egui::Context) {
        if !self.first_frame_seen {
            self.first_frame_seen = true;
            self.report_ready("first frame drawn");
        }
        match self.phase {
            StopPhase::Settling(n) if n < SETTLE_FRAMES => {
                self.phase = StopPhase::Settling(n + 1);
                ctx.request_repaint();
            }
            StopPhase::Settling(_) => {
                self.request_screenshot(ctx);
                self.phase = StopPhase::Shooting;
            }
            StopPhase::Shooting => self.receive_screenshot(),
            StopPhase::Start | StopPhase::Running => {}
        }
        if self.current().is_none() {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    fn request_screenshot(&mut self, ctx: &egui::Context) {
        let name = match self.stops.get(self.stop) {
            Some((_, title)) => format!("{:02}_{}.png", self.stop + 1, file_stem(title)),
            None => return,
        };
        let path = self.out_dir.join(name);
        let (sender, receiver) = mpsc::channel();
        self.shots = Some(receiver);
        let repaint = ctx.clone();
        ctx.request_screenshot(move |image| {
            let _ = sender.send(save_screenshot(&image, path));
            repaint.request_repaint();
        });
        ctx.request_repaint();
    }

    fn receive_screenshot(&mut self) {
        let Some(receiver) = &self.shots else {
            return;
        };
        match receiver.try_recv() {
            Ok(Ok(path)) => {
                println!("tour: saved {}", path.display());
                self.saved.push(path);
                self.shots = None;
                self.stop += 1;
                self.phase = StopPhase::Start;
                if let Some(reason) = self.failure.take() {
                    self.finish(Err(reason));
                } else if self.current().is_none() {
                    self.finish(Ok(()));
                }
            }
            Ok(Err(reason)) => self.finish(Err(reason)),
            Err(mpsc::TryRecvError::Empty) => {}
            Err(mpsc::TryRecvError::Disconnected) => {
                self.finish(Err("the window system dropped a screenshot request".into()))
            }
        }
    }

    fn finish(&mut self, result: Result<(), String>) {
        if let Err(reason) = &result {
            eprintln!("tour: stopped: {reason}");
        }
        let report = result.map(|()| self.saved.clone());
        if let Ok(mut outcome) = self.outcome.lock() {
            *outcome = Some(report);
        }
        self.stop = self.stops.len();
    }
}

/// The file-name part of a stop's screenshot: its tab title in lower case, words joined by
/// underscores ("Embedding map" -> "embedding_map").
fn file_stem(title: &str) -> String {
    title
        .split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("_")
}

/// Writes a screenshot as PNG (atomically), creating the folder.
fn save_screenshot(image: &egui::ColorImage, path: PathBuf) -> Result<PathBuf, String> {
    let [w, h] = image.size;
    let pixels = image.pixels.iter().map(|c| [c.r(), c.g(), c.b()]);
    let png = crate::export::rgb_to_png(w as u32, h as u32, pixels)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    crate::export::write_atomic(&path, |file| std::io::Write::write_all(file, &png))
        .map_err(|e| e.to_string())?;
    Ok(path)
}
