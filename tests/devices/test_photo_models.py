"""The vendored face models: present, exactly the files listed in resources/models/README.md, run
by this OpenCV, decoded correctly; and what happens when one is damaged."""
from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from devices.photo import cnn, make_compliant_photo, pipeline
from devices.photo.cnn import MODEL_SHA256, ModelError, models_dir, verify_models
from tests.devices import images


def test_readme_lists_every_model_with_its_sha256():
    readme = (models_dir() / "README.md").read_text(encoding="utf-8")
    for name, digest in MODEL_SHA256.items():
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}`"))
        assert digest in row and "Apache-2.0" in row
    assert (models_dir() / "LICENSE-mediapipe-Apache-2.0.txt").read_text().startswith(" " * 33 + "Apache License")
    verify_models()
    total = sum((models_dir() / n).stat().st_size for n in MODEL_SHA256)
    assert total < 3_500_000
    assert re.search(r"Total size 2\.\d MB", readme)


def test_anchor_tables_have_the_networks_output_counts():
    assert len(cnn._ssd_anchors(128, [8, 16, 16, 16], True)) == 896
    assert len(cnn._ssd_anchors(192, [4], False)) == 2304


def test_detection_key_points_and_mesh_agree_on_a_real_face():
    det = cnn.FaceMeshDetector()
    picture = images.astronaut()
    found = det.detect(picture)
    assert len(found) == 1 and found[0].score > 0.8
    x0, y0, x1, y1 = found[0].box
    assert 150 < x0 < 200 and 60 < y0 < 110 and 80 < x1 - x0 < 120
    mesh = det.mesh(picture, found[0])
    assert mesh.presence > 0.9
    # BlazeFace's eye key points (subject's right first) and the mesh's eye centres coincide
    for kp, eye in zip(found[0].keypoints[:2], (mesh.right_eye, mesh.left_eye)):
        assert np.hypot(kp[0] - eye[0], kp[1] - eye[1]) < 5
    assert mesh.right_eye[0] < mesh.left_eye[0] and mesh.chin[1] > mesh.right_eye[1] + 40
    # the person segmentation covers her face and not the corner of the room
    prob = cnn.PersonSegmenter().probability(picture)
    assert prob[int(115 / 2), int(224 / 2)] > 0.9 and prob[5, 250] < 0.1


def test_a_damaged_model_is_named_and_the_haar_fallback_says_so(tmp_path, monkeypatch):
    broken = tmp_path / "models"
    shutil.copytree(models_dir(), broken)
    (broken / cnn.FACE_MESH).write_bytes(b"\0" * 1000)
    monkeypatch.setattr(cnn, "models_dir", lambda: broken)
    cnn.verify_models.cache_clear()
    monkeypatch.setattr(pipeline, "_local", type(pipeline._local)())   # no networks cached on this thread
    try:
        with pytest.raises(ModelError, match="人脸模型文件已损坏：face_landmark.tflite"):
            make_compliant_photo(images.astronaut(), engine="cnn")
        result = make_compliant_photo(images.astronaut())
        assert result.engine == "haar" and "已改用备用检测器" in result.engine_note
        assert result.ok                                            # the astronaut still gets her photo …
        assert result.clerk_checks[0].name == "face_rules_unmeasured"   # … and the clerk is told what was not measured
        (broken / cnn.FACE_MESH).unlink()
        cnn.verify_models.cache_clear()
        with pytest.raises(ModelError, match="人脸模型文件缺失"):
            verify_models()
    finally:
        cnn.verify_models.cache_clear()
