"""Shared fixtures: a small hand-written Chinese corpus and its index, and one build of the real corpus."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Never touch the network: models come from the index itself (corpus-static) or the local cache.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Ray reads these when first imported (reportqa/scaleout/__init__.py says why): a loopback cluster, no usage stats.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
# The settings object reads REPORTQA_* variables; a developer's shell must not change what the tests see.
for _name in [n for n in os.environ if n.startswith("REPORTQA_")]:
    del os.environ[_name]
# FastAPI's TestClient sends "Host: testserver"; the served defaults (loopback names) stay as they are.
os.environ["REPORTQA_ALLOWED_HOSTS"] = '["localhost", "127.0.0.1", "::1", "testserver"]'

import pytest  # noqa: E402

from reportqa.core.settings import Settings  # noqa: E402


def pytest_report_header() -> str:
    """The free space where the tests write: a run needs a few GB there, and a full disk fails hundreds of tests
    at once with errors that do not say so."""
    free = shutil.disk_usage(tempfile.gettempdir()).free / 2**30
    return f"free space in {tempfile.gettempdir()}: {free:.1f} GiB"


ROOT = Path(__file__).resolve().parent.parent
REAL_CORPUS = ROOT / "corpus"
SMALL_EMBED_DIM = 16

AI_DOC = "ai_spending.txt"
CHIP_DOC = "xinghe_chips.txt"
BATTERY_DOC = "battery_storage.txt"
QUANTUM_DOC = "quantum_outlook.txt"

# Hard-wrapped lines (a sentence continues on the next line), tab-separated tables, numbered headings.
SMALL_DOCS: dict[str, tuple[str, str]] = {
    AI_DOC: (
        "全球人工智能支出展望2026",
        "全球人工智能支出展望2026\n"
        "\n"
        "第一章 全球AI支出总体规模\n"
        "1.1 支出总量\n"
        "根据Gartner在2026年5月发布的最新预测，2026年全球AI支出预计达到2.59万亿美元，\n"
        "较2025年的1.74万亿美元同比增长47%，增速远超此前所有机构的预测。\n"
        "其中AI基础设施投资占整体AI支出的45%以上，AI优化服务器支出预计在未来五年\n"
        "增长三倍，算力竞争已经成为决定性变量。\n"
        "\n"
        "1.2 支出结构\n"
        "表1 全球AI支出结构\n"
        "类别\t2025年\t2026年\t增速\n"
        "AI基础设施\t7800亿美元\t1.17万亿美元\t50%\n"
        "AI软件\t4200亿美元\t6100亿美元\t45%\n"
        "AI服务\t5400亿美元\t8100亿美元\t50%\n"
        "\n"
        "第二章 区域格局\n"
        "2.1 北美市场\n"
        "北美地区仍是全球最大的AI支出市场，微软、谷歌和亚马逊三家云厂商的资本开支合计\n"
        "超过2500亿美元，主要投向数据中心与自研芯片。\n"
        "2.2 亚太市场\n"
        "亚太地区的AI支出增速最快，中国市场的生成式AI应用在制造、金融和政务领域加速落地，\n"
        "东南亚和中东的新兴数据中心项目也吸引了大量主权基金投资。\n",
    ),
    CHIP_DOC: (
        "星河半导体公司年度研究",
        "第一章 公司概况\n"
        "星河半导体股份有限公司成立于2008年，总部位于苏州，是国内领先的功率芯片设计企业，\n"
        "主要产品包括碳化硅功率器件和车规级MCU。\n"
        "星河半导体在2025年实现营业收入128亿元，同比增长36%，其中车规级产品收入占比达到\n"
        "58%，毛利率提升至41.5%。\n"
        "\n"
        "第二章 技术路线\n"
        "2.1 工艺节点\n"
        "公司与代工伙伴合作推进8英寸碳化硅产线建设，预计2027年实现满产，\n"
        "届时碳化硅器件年产能将达到60万片。\n"
        "2.2 研发投入\n"
        "星河半导体的研发人员超过2100人，2025年研发投入为19亿元，占营业收入的14.8%。\n"
        "主要客户\t采购占比\t合作年限\n"
        "比亚迪\t22%\t6年\n"
        "蔚来汽车\t9%\t4年\n",
    ),
    BATTERY_DOC: (
        "新型储能与固态电池产业观察",
        "第一章 储能市场\n"
        "1.1 装机规模\n"
        "截至2025年底，中国新型储能累计装机规模达到95吉瓦，预计到2030年\n"
        "新型储能装机容量将突破300吉瓦，年均复合增长率超过25%。\n"
        "锂离子电池仍占新型储能装机的九成以上，液流电池和压缩空气储能的份额正在上升。\n"
        "\n"
        "第二章 固态电池\n"
        "2.1 技术进展\n"
        "半固态电池已经在高端电动汽车上量产装车，全固态电池的能量密度有望达到\n"
        "每公斤500瓦时，硫化物电解质是目前最受关注的技术路线。\n"
        "2.2 产业化时间表\n"
        "多家电池企业计划在2027年前后建设全固态电池中试线，2030年实现小批量装车。\n",
    ),
    QUANTUM_DOC: (
        "量子计算产业发展报告",
        "第一章 量子计算概述\n"
        "量子计算利用量子叠加和纠缠进行信息处理，在密码分析、材料模拟和组合优化等领域\n"
        "具有超越经典计算机的潜力。\n"
        "1.1 技术路线\n"
        "超导量子比特、离子阱和光量子是三条主要技术路线，其中超导路线的量子比特数量\n"
        "在2025年已经超过1000个，但纠错仍是实现通用量子计算的最大障碍。\n"
        "1.2 市场规模\n"
        "全球量子计算市场规模在2025年约为15亿美元，预计2030年增长到80亿美元，\n"
        "政府科研项目和金融机构是目前最主要的采购方。\n",
    ),
}


def write_small_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (_, text) in SMALL_DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    manifest = {name: {"title": title} for name, (title, _) in SMALL_DOCS.items()}
    text = json.dumps(manifest, ensure_ascii=False, indent=2)
    (folder / "manifest.json").write_text(text, encoding="utf-8")
    return folder


MODELS_DIR = ROOT / "var" / "models"  # the converted encoder and its vector cache, shared with `make index`


def small_settings(index_dir: Path, corpus: Path, **overrides: object) -> Settings:
    """Settings for a test index; feedback goes beside it, never to the project's var/feedback.jsonl."""
    overrides.setdefault("models_dir", MODELS_DIR)
    overrides.setdefault("feedback_file", index_dir.parent / "feedback.jsonl")
    return Settings(index_dir=index_dir, corpus=[corpus], embed_dim=SMALL_EMBED_DIM, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small_corpus(tmp_path_factory.mktemp("small_corpus"))


@pytest.fixture(scope="session")
def small_index(small_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of an index of the small corpus, built once; tests must not modify it."""
    from reportqa.engine import build

    settings = small_settings(tmp_path_factory.mktemp("small_index"), small_corpus)
    build(settings)
    return settings


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The real corpus indexed with the default settings, built at most once per session (~20 s)."""
    from reportqa.engine import build

    folder = tmp_path_factory.mktemp("real_index")
    settings = Settings(index_dir=folder, corpus=[REAL_CORPUS], feedback_file=folder.parent / "feedback.jsonl",
                        models_dir=MODELS_DIR)
    build(settings)
    yield settings
