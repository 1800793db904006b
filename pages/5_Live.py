from streamlit_webrtc import WebRtcMode, webrtc_streamer

import tempfile

import cv2
import plotly.express as px
import streamlit as st

from fer_core.errors import FerStudioError
from fer_core.live.detect import DetectorSettings
from fer_core.explain.overlays import OVERLAYS
from fer_core.live.pipeline import LivePipeline, LiveSession, LiveSettings
from fer_core.live.video import decode_image, process_video
from fer_core.runs.store import default_run, usable_runs
from fer_core.app.ui import show_error

st.title("Live")

runs = usable_runs()
if not runs:
    st.info("No model under `models/`. Train one on the Train page, or restore the shipped default run.")
    st.stop()
by_id = {r.id: r for r in runs}
ids = list(by_id)
default = default_run()
run_id = st.sidebar.selectbox("Model", ids, index=ids.index(default.id) if default else 0)
run = by_id[run_id]
record = run.record
classes = run.class_names
overlay = st.sidebar.selectbox("Overlay", OVERLAYS)
target = st.sidebar.selectbox("Explain class", ["(predicted)"] + classes)
smoothing = st.sidebar.slider("Smoothing (weight of newest frame; 1 = off)", 0.05, 1.0, 0.5)
with st.sidebar.expander("Face detector"):
    scale = st.slider("Scale factor", 1.05, 1.5, 1.1)
    neighbours = st.slider("Min neighbours", 1, 10, 5)
    min_size = st.slider("Min face size (px)", 20, 200, 40)
servers = st.sidebar.text_area("STUN/TURN servers (one URL per line; empty = localhost only)", "")
settings = LiveSettings(overlay=overlay, target_class=None if target == "(predicted)" else classes.index(target),
                        smoothing=smoothing, detector=DetectorSettings(scale, neighbours, min_size))
if record.get("label"):
    st.caption(f"Model: `{run_id}` — {record['label']}")



def session_for(run) -> LiveSession:
    key = f"live_session::{run.id}"
    if key not in st.session_state:
        st.session_state[key] = LiveSession(LivePipeline(str(run.path)))
    st.session_state["live_session"] = st.session_state[key]
    return st.session_state[key]


try:
    session = session_for(run)
except (FerStudioError, OSError, ValueError) as exc:
    st.error(f"Cannot load model {run_id}: {exc}")
    st.stop()
session.update_settings(**settings.__dict__)

tab_cam, tab_image, tab_video = st.tabs(["Webcam", "Image", "Video"])

with tab_cam:
    ice = [{"urls": [u.strip()]} for u in servers.splitlines() if u.strip()]
    webrtc_streamer(key=f"live-{run_id}", mode=WebRtcMode.SENDRECV, video_frame_callback=session.callback,
                    rtc_configuration={"iceServers": ice}, media_stream_constraints={"video": True, "audio": False},
                    async_processing=True)

    @st.fragment(run_every=1)
    def live_status():
        snap = session.snapshot()
        st.markdown(f"Processed frames: **{snap['frames']}** · with a face: **{snap['frames_with_face']}**")
        if snap["error"]:
            st.warning(f"Last frame error: {snap['error']}")
        if snap["timings"]:
            t = snap["timings"]
            st.caption(f"{t['fps']:.1f} fps · detect {t['detect']:.1f} ms · classify {t['classify']:.1f} ms · "
                       f"draw {t['draw']:.1f} ms · overlay {t['overlay']:.1f} ms")
        if snap["faces"]:
            track, label, conf, probs = snap["faces"][0]
            st.markdown(f"Face #{track}: **{label}** ({conf:.0%})")
            fig = px.bar(x=session.pipeline.classifier.class_names, y=probs, range_y=[0, 1],
                         labels={"x": "class", "y": "probability"})
            fig.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10))
            st.plotly_chart(fig, key="live_probs")

    live_status()

with tab_image:
    upload = st.file_uploader("Image with faces", type=["jpg", "jpeg", "png", "bmp", "webp"], key="image_upload")
    if upload is not None:
        try:
            img = decode_image(upload.getvalue(), upload.name)
            pipe = LivePipeline(str(run.path), LiveSettings(**{**settings.__dict__, "smoothing": 1.0, "show_timings": False}))
            out, results, timings = pipe.process(img)
            if not results and max(img.shape[:2]) <= 128:
                st.info("No face detected; the image is small, so it is classified whole (as a face crop).")
                gray = cv2.resize(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), (48, 48), interpolation=cv2.INTER_AREA)
                probs = pipe.classifier.predict(gray[None])[0]
                results_table = [{"face": 0, **{c: float(p) for c, p in zip(pipe.classifier.class_names, probs)}}]
            else:
                results_table = [{"face": r.track_id, "label": r.label, "confidence": r.confidence,
                                  **{c: float(p) for c, p in zip(pipe.classifier.class_names, r.probs)}} for r in results]
                if not results:
                    st.warning("No face found. Try a lower 'Min neighbours' or 'Min face size' in the sidebar.")
            st.image(out[..., ::-1], caption=f"{len(results)} face(s)")
            st.dataframe(results_table, hide_index=True)
        except FerStudioError as exc:
            show_error(exc)

with tab_video:
    video = st.file_uploader("Short video", type=["mp4", "avi", "mov", "webm", "mkv"], key="video_upload")
    every = st.number_input("Process every n-th frame", 1, 30, 2)
    if video is not None and st.button("Analyse video"):
        with tempfile.NamedTemporaryFile(suffix="." + video.name.rsplit(".", 1)[-1]) as tmp:
            tmp.write(video.getvalue())
            tmp.flush()
            bar = st.progress(0.0, text="Analysing…")
            try:
                pipe = LivePipeline(str(run.path), LiveSettings(**{**settings.__dict__, "overlay": "none"}))
                table = process_video(tmp.name, pipe, every_nth=int(every), progress=lambda f: bar.progress(f))
                bar.progress(1.0, text=f"{table['frame'].nunique() if len(table) else 0} frames with faces")
                if len(table):
                    long = table.melt(id_vars=["time_s", "face"], value_vars=pipe.classifier.class_names,
                                      var_name="emotion", value_name="probability")
                    st.plotly_chart(px.line(long[long["face"] == long["face"].min()], x="time_s", y="probability",
                                            color="emotion"), key="video_chart")
                    st.download_button("Download per-frame emotions (CSV)", table.to_csv(index=False).encode(),
                                       "emotions.csv", "text/csv")
                else:
                    st.warning("No faces found in the video.")
            except FerStudioError as exc:
                show_error(exc)
