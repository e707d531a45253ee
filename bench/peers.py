"""The recipes users pick instead of omniprep, for bench/everyday.mjs (Debian's python3-opencv and
python3-av, run with /usr/bin/python3).

  peers.py opencv IN OUT_DIR EVERY MAX_SIDE   the cookbook loop: read every frame, keep one per EVERY s
  peers.py pyav   IN OUT_DIR EVERY MAX_SIDE   PyAV: seek to each target, decode to it, keep that frame
Prints the number of frames written.

  peers.py scenedetect IN content|adaptive    PySceneDetect's detector with its defaults (for
                                              bench/scene.mjs; its source on PYTHONPATH)
Prints the cut times, seconds, as JSON.
"""
import os
import sys


def size(w, h, max_side):
    s = min(1.0, max_side / max(w, h))
    return max(2, int(round(w * s / 2)) * 2), max(2, int(round(h * s / 2)) * 2)


def opencv(src, out, every, max_side):
    import cv2

    cap = cv2.VideoCapture(src)
    n = 0
    nxt = 0.0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        if t + 1e-6 >= nxt:
            h, w = frame.shape[:2]
            frame = cv2.resize(frame, size(w, h, max_side), interpolation=cv2.INTER_AREA)
            cv2.imwrite(os.path.join(out, "%05d.jpg" % n), frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
            n += 1
            nxt += every
    return n


def pyav(src, out, every, max_side):
    import av
    import cv2  # only to write the JPEG (Debian's python3-av comes without PIL)

    with av.open(src) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        duration = float(c.duration) / av.time_base if c.duration else float(stream.duration * stream.time_base)
        n = 0
        t = 0.0
        while t < duration:
            c.seek(int(t / stream.time_base), stream=stream, backward=True, any_frame=False)
            for frame in c.decode(stream):
                if frame.time is None or frame.time + 1e-6 < t:
                    continue
                w, h = size(frame.width, frame.height, max_side)
                img = frame.reformat(width=w, height=h, format="bgr24").to_ndarray()
                cv2.imwrite(os.path.join(out, "%05d.jpg" % n), img, [cv2.IMWRITE_JPEG_QUALITY, 85])
                n += 1
                break
            t += every
    return n


def scenedetect(src, detector):
    import json

    from scenedetect import AdaptiveDetector, ContentDetector, detect

    scenes = detect(src, {"content": ContentDetector, "adaptive": AdaptiveDetector}[detector]())
    return json.dumps([round(start.seconds, 6) for start, _ in scenes[1:]])


if __name__ == "__main__":
    if sys.argv[1] == "scenedetect":
        print(scenedetect(sys.argv[2], sys.argv[3]))
        sys.exit(0)
    kind, src, out, every, max_side = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
    print({"opencv": opencv, "pyav": pyav}[kind](src, out, every, max_side))
