"""The demo's topic model: trained from the demo's own closed 12345 demands, so that `make run` shows
automatic dispatch (智能分派建议) on every new demand without any outside data.

It is what a new platform would do with its first closed cases (`taizhang insight train --from-cases`)
and is as weak as a model from 100-odd templated complaints must be: its confidence stays low, so its
suggestions are shown but left to the dispatcher. A model that is already active (trained on real
data) is never replaced.
"""

from __future__ import annotations

import logging

from taizhang.errors import ActionError
from taizhang.insight.classify.data import read_cases
from taizhang.insight.classify.store import active_version, model_root
from taizhang.insight.classify.training import do_train


def train_demo_model() -> str:
    """Train and activate a model from the closed demands unless one is active; say what happened."""
    root = model_root()
    current = active_version(root)
    if current:
        return f"问题分类模型：已有当前模型 {current}，未重新训练"
    examples = read_cases("demand", "topic")
    try:
        result = do_train(examples, root, holdout=0)
    except ActionError as exc:
        return f"问题分类模型：未训练（{exc.message}）"
    except Exception as exc:  # the demo's data are in: a model that fails must not stop `make run`
        logging.getLogger("taizhang.demo").exception("training the demo's topic model failed")
        return (
            f"问题分类模型：训练失败（{exc}），平台照常运行；可稍后运行 taizhang insight train --from-cases"
        )
    return (
        f"问题分类模型：用演示数据中 {len(examples.texts)} 件已办结诉求训练了 {result.model.version}"
        f"（{root}），新诉求受理时给出智能分派建议；正式使用请用真实数据训练：taizhang insight train --data FILE"
    )
