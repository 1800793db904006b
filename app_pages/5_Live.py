from streamlit_webrtc import WebRtcMode, webrtc_streamer

import tempfile

import streamlit as st

from fer_core.errors import FerStudioError
from fer_core.live.detect import DETECTORS, DetectorSettings
from fer_core.explain.overlays import OVERLAYS, cbam_layers
from fer_core.live.pipeline import LivePipeline, LiveSession, LiveSettings
from fer_core.live.stream_detect import FULL_EVERY
from fer_core.app.charts import emotion_timeline_figure
from fer_core.live.video import MAX_VIDEO_SECONDS, annotate_image, decode_image, process_video
from fer_core.runs.store import default_run, list_runs
from fer_core.app.ui import broken_runs_notice, model_card, show_error
from fer_core.app.export_view import export_panel

st.title("Live")

all_runs = list_runs()
runs = [r for r in all_runs if not r.broken]
broken_runs_notice(all_runs)
if not runs:
    st.info("No model under `models/`. Train one on the Train page, or restore the shipped default run.")
    st.stop()
by_id = {r.id: r for r in runs}
ids = list(by_id)
default = default_run()
run_id = st.sidebar.selectbox("Model", ids, index=ids.index(default.id) if default else 0)
run = by_id[run_id]
classes = run.class_names
overlay = st.sidebar.selectbox("Overlay", OVERLAYS)
target = st.sidebar.selectbox("Explain class", ["(predicted)"] + classes)
smoothing = st.sidebar.slider("Smoothing (weight of newest frame; 1 = off)", 0.05, 1.0, 0.5)
with st.sidebar.expander("Face detector"):
    detector_name = st.selectbox("Detector", DETECTORS, help="blazeface-cascade (the default, by bench/results/detect.json) "
                                 "finds every face from ~48 px in a group (short-range BlazeFace on the frame at half "
                                 "size, doubtful faces looked at again); blazeface-multiscale (three scales) a few "
                                 "more of the smallest, in twice the time; blazeface (short-range on the whole frame) "
                                 "only faces from ~150 px; Haar invents some faces.")
    min_size = st.slider("Min face size (px)", 20, 200, 40)
    if detector_name == "haar":
        scale = st.slider("Scale factor", 1.05, 1.5, 1.1)
        neighbours = st.slider("Min neighbours", 1, 10, 5)
        min_score, align = 0.5, False
    else:
        min_score = st.slider("Min face score", 0.3, 0.95, 0.5)
        align = st.checkbox("Level the eyes before classifying", value=True,
                            help="Rotates each face crop so the eye line is horizontal (tilted heads).")
        scale, neighbours = 1.1, 5
    full_every = st.slider("Search the whole frame every n-th frame", 1, 15, FULL_EVERY,
                           help="Between full searches the webcam stream looks for each known face only around where "
                                "it was (one small square per face: ~3x less work for four faces). A new face shows "
                                "up at the next full search. 1 = every frame.")
camera = st.sidebar.selectbox("Camera resolution", ["640x480", "1280x720"],
                              help="1280x720 shows small faces (people farther away) in more pixels; it costs more "
                                   "per frame. The detector works at either.")
cam_w, cam_h = (int(v) for v in camera.split("x"))
servers = st.sidebar.text_area("STUN/TURN servers (one URL per line; empty = localhost only)", "")
settings = LiveSettings(overlay=overlay, target_class=None if target == "(predicted)" else classes.index(target),
                        smoothing=smoothing, full_scan_every=full_every,
                        detector=DetectorSettings(name=detector_name, score_threshold=min_score, scale_factor=scale,
                                                  min_neighbors=neighbours, min_size=min_size, align=align))
with st.expander(f"About this model: `{run_id}`"):
    model_card(run)
    export_panel(run, key="live_export")



def session_for(run) -> LiveSession:
    key = f"live_session::{run.id}"
    if key not in st.session_state:
        st.session_state[key] = LiveSession(LivePipeline(str(run.path)))
    st.session_state["live_session"] = st.session_state[key]
    return st.session_state[key]


try:
    session = session_for(run)
except (FerStudioError, OSError) as exc:
    show_error(exc, f"Cannot load model {run_id}.")
    st.stop()
session.update_settings(**settings.__dict__)
if overlay == "Grad-CAM++" and not session.pipeline.explainer.fast_gradcam_pp:
    # this model's head needs tf-keras-vis (~30 ms a face): one face is explained, the user picks which
    latest_ids = [f[0] for f in session.snapshot()["faces"]]
    pick = st.sidebar.selectbox("Face to explain (Grad-CAM++ explains one)", ["the largest"] + [f"#{i}" for i in latest_ids])
    session.update_settings(explain_track=None if pick == "the largest" else int(pick[1:]))

if overlay == "CBAM attention" and not cbam_layers(session.pipeline.fer.keras_model):  # for every tab below
    st.info(f"`{run_id}` has no CBAM layers, so there is no attention map to overlay. Pick a CBAM model "
            "(e.g. cbam5cnn) or the Grad-CAM overlay.")
tab_cam, tab_image, tab_video = st.tabs(["Webcam", "Image", "Video"])

with tab_cam:
    video_col, status_col = st.columns([3, 2])
    with video_col:
        ice = [{"urls": [u.strip()]} for u in servers.splitlines() if u.strip()]
        # queued callback: frames that arrive while one is processed are counted and skipped, never queued up
        ctx = webrtc_streamer(key=f"live-{run_id}-{camera}", mode=WebRtcMode.SENDRECV,
                              queued_video_frames_callback=session.queued_callback, on_video_ended=session.ended,
                              rtc_configuration={"iceServers": ice},
                              media_stream_constraints={"video": {"width": cam_w, "height": cam_h}, "audio": False},
                              async_processing=True)
    playing = bool(ctx is not None and ctx.state.playing)
    if not playing:
        session.ended()  # after STOP the last stream's numbers must not linger

    def face_table(faces) -> str:
        """Every face in one compact table (8 faces fit): id, label, score, the top three classes."""
        rows = ["| face | emotion | top 3 |", "| --- | --- | --- |"]
        for track, label, conf, probs in faces:
            top = sorted(zip(classes, probs), key=lambda kv: -kv[1])[:3]
            bars = " · ".join(f"{n} {'▮' * max(1, round(p * 10))} {p:.0%}" for n, p in top)
            rows.append(f"| #{track} | **{label}** {conf:.0%} | {bars} |")
        return "\n".join(rows)

    @st.fragment(run_every=1)
    def live_status():
        # Cheap on purpose: text and progress bars update in place; a chart here costs the stream frames.
        snap = session.snapshot()
        if not snap["frames"]:
            st.caption("Press START to stream your webcam; numbers appear here once frames are processed.")
            return
        counts = " ".join(f"{k}×{v}" for k, v in sorted(snap["face_counts"].items(), reverse=True) if k)
        st.markdown(f"Processed frames: **{snap['frames']}** of **{snap['received']}** received · "
                    f"with a face: **{snap['frames_with_face']}**" + (f" · faces per frame: {counts}" if counts else ""))
        t = snap["timings"]
        st.caption(f"{t['fps']:.1f} processed fps of {t['received_fps']:.1f} received · detect {t['detect']:.1f} ms · "
                   f"classify {t['classify']:.1f} ms · overlay {t['overlay']:.1f} ms · draw {t['draw']:.1f} ms "
                   "(medians of the last 30 frames)")
        viewers = f"{snap['streams']} stream{'s' if snap['streams'] != 1 else ''} on this server (at most " \
                  f"{snap['max_streams']}, FER_LIVE_MAX_STREAMS)"
        if snap["refused"]:
            st.error(f"**This server is full.** {viewers}: your camera's frames come back unprocessed. Try again "
                     "when another viewer stops, or raise FER_LIVE_MAX_STREAMS on a larger machine.")
        elif snap["dropped_share"] > 0.1:
            st.warning(f"**Frames are being dropped:** {snap['dropped_share']:.0%} of what the camera sends is "
                       f"skipped because processing cannot keep up ({t['fps']:.0f} of {t['received_fps']:.0f} fps). "
                       f"{viewers}. Fewer viewers, no overlay or 640x480 make room.")
        else:
            st.caption(viewers)
        if snap["error"]:
            show_error(snap["error"], "Last frame error.")
        if snap["faces"]:
            st.markdown(face_table(snap["faces"]))
        else:
            st.caption("No face in the latest frame.")

    with status_col:
        live_status()

with tab_image:
    upload = st.file_uploader("Image with faces", type=["jpg", "jpeg", "png", "bmp", "webp"], key="image_upload")
    if upload is not None:
        try:
            img = decode_image(upload.getvalue(), upload.name)
            pipe = LivePipeline(str(run.path), LiveSettings(**{**settings.__dict__, "smoothing": 1.0, "show_timings": False}))
            out, rows, note = annotate_image(pipe, img)
            if note:
                st.info(note)
            st.image(out[..., ::-1], caption=f"{len(rows)} face(s)")
            st.dataframe(rows, hide_index=True)
        except FerStudioError as exc:
            show_error(exc)

with tab_video:
    video = st.file_uploader("Short video", type=["mp4", "avi", "mov", "webm", "mkv"], key="video_upload")
    every = st.number_input("Process every n-th frame", 1, 30, 2)
    if video is not None and st.button("Analyse video"):
        suffix = "." + video.name.rsplit(".", 1)[-1].lower() if "." in video.name else ".mp4"
        with tempfile.NamedTemporaryFile(suffix=suffix if suffix[1:].isalnum() else ".mp4") as tmp:
            tmp.write(video.getvalue())
            tmp.flush()
            bar = st.progress(0.0, text="Analysing…")
            try:
                pipe = LivePipeline(str(run.path), LiveSettings(**{**settings.__dict__, "overlay": "none"}))
                result = process_video(tmp.name, pipe, every_nth=int(every), progress=lambda f: bar.progress(f),
                                       name=video.name)
                table = result.table
                bar.progress(1.0, text=f"{table['frame'].nunique() if len(table) else 0} frames with faces")
                if result.cut:
                    st.warning(f"`{video.name}` is longer than {MAX_VIDEO_SECONDS} s: only its first "
                               f"{result.seconds_analysed:.0f} s were analysed.")
                elif result.ended_early:
                    st.warning(f"`{video.name}` ended after {result.seconds_analysed:.1f} s although it says it is "
                               f"{result.seconds_total:.1f} s long: the file may be truncated.")
                if len(table):
                    st.plotly_chart(emotion_timeline_figure(table, pipe.class_names), key="video_chart")
                    st.download_button("Download per-frame emotions (CSV)", table.to_csv(index=False).encode(),
                                       "emotions.csv", "text/csv")
                else:
                    st.warning("No faces found in the video.")
            except FerStudioError as exc:
                bar.empty()  # no "Analysing…" left above the error
                show_error(exc)
