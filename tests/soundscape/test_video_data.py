import numpy as np
import pytest

from latentstudio.core.video import write_video
from latentstudio.errors import ParameterError
from latentstudio.soundscape.data import split_three, video_pairs
from latentstudio.soundscape.features import MelSpec
from latentstudio.soundscape.teacher import Teacher


def test_video_folder_becomes_windows_with_frame_views(tmp_path, tone):
    folder = tmp_path / "videos"
    folder.mkdir()
    frames = np.zeros((40, 32, 32, 3), np.float32)
    frames[:, :, :, 0] = np.linspace(0, 1, 40)[:, None, None]
    write_video(folder / "a.mp4", frames, fps=8, audio=tone(440, 5.0), sr=16000)   # 5 s -> 2 windows of 2 s
    (folder / "broken.mp4").write_bytes(b"not a video")
    pairs = video_pairs(folder, Teacher(), spec=MelSpec(), frames_per_window=2)
    assert len(pairs) == 2 and pairs.names == ["a@0s", "a@2s"]
    assert pairs.logits[0].shape == (2, 1000)
    assert len(pairs.groups) == 2 and pairs.groups[0] == pairs.groups[1]     # one video = one group
    assert [p.endswith("broken.mp4") for p, _ in pairs.skipped] == [True]
    train, _, test = split_three(pairs.groups, validation=0.0, test=0.5, seed=0)
    assert train.all() or test.all()                                        # a video is never split


def test_folder_without_videos(tmp_path):
    with pytest.raises(ParameterError, match="no videos"):
        video_pairs(tmp_path, Teacher(), spec=MelSpec())
