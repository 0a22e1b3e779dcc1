"""The milestones of machine learning that the book names, as data.

Chapter 1 (機械学習の歴史) draws its timeline from :data:`MILESTONES`, divided into the
:data:`ERAS`. Each milestone carries the BibTeX key of its work (in ``book/references.bib``) and,
in ``note``, where another account gives a different year or attribution.

The year of a milestone is the year of the cited publication, except where a preprint (arXiv)
made the work public earlier: then it is the preprint's year (ResNet 2015, Adam 2014, BERT 2018 …).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlbook._checks import nonneg_int, one_of, positive

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes

__all__ = [
    "CATEGORIES",
    "ERAS",
    "MILESTONES",
    "Milestone",
    "era_of",
    "milestones",
    "plot_timeline",
    "timeline_figsize",
]

#: The categories a milestone belongs to, in the order the timeline's legend lists them.
CATEGORIES: tuple[str, ...] = (
    "人工知能全般",
    "ニューロン・学習則",
    "理論",
    "統計的機械学習",
    "アーキテクチャ",
    "生成・マルチモーダル",
    "言語モデル",
)

#: The eras as (name, first_year, last_year), both years inclusive; contiguous and in order.
#: Chapter 1 explains each boundary.
ERAS: tuple[tuple[str, int, int], ...] = (
    ("黎明期", 1940, 1955),
    ("第1次AIブーム", 1956, 1969),
    ("冬の時代", 1970, 1979),
    ("第2次AIブーム", 1980, 1994),
    ("統計的機械学習の時代", 1995, 2005),
    ("第3次AIブーム(深層学習)", 2006, 2017),
    ("大規模言語モデルの時代", 2018, 2026),
)

_ERA_NAMES = tuple(name for name, _, _ in ERAS)


def era_of(year: int) -> str:
    """The name of the era in :data:`ERAS` that contains ``year``."""
    for name, first, last in ERAS:
        if first <= year <= last:
            return name
    raise ValueError(f"year {year} lies outside every era ({ERAS[0][1]}–{ERAS[-1][2]})")


@dataclass(frozen=True)
class Milestone:
    """One event on the timeline.

    ``title`` is a short Japanese name (it labels the timeline), ``people`` who did it, ``category``
    one of :data:`CATEGORIES`, ``era`` the era of :data:`ERAS` containing ``year``, ``cite`` a key
    of ``book/references.bib`` and ``note`` (Japanese, optional) what another account says
    differently and what is correct.
    """

    year: int
    title: str
    people: str
    category: str
    era: str
    cite: str
    note: str = ""

    def __post_init__(self) -> None:
        one_of(self.category, "category", CATEGORIES)
        if self.era != era_of(self.year):
            raise ValueError(
                f"{self.title} ({self.year}) lies in era {era_of(self.year)!r}, not {self.era!r}"
            )
        if not self.cite:
            raise ValueError(f"{self.title} ({self.year}) has no citation key")


def _m(year: int, title: str, people: str, category: str, cite: str, note: str = "") -> Milestone:
    return Milestone(year, title, people, category, era_of(year), cite, note)


#: The milestones, sorted by year.
MILESTONES: tuple[Milestone, ...] = (
    _m(1943, "形式ニューロン", "McCulloch, Pitts", "ニューロン・学習則", "mcculloch1943logical",
       "しきい値素子の回路で論理関数を表した。学習則はまだ無い。「1940年代に提案された"
       "パーセプトロン」という説明を見かけるが、このモデルとパーセプトロン(1958年)との混同である。"),
    _m(1949, "ヘッブ則", "Hebb", "ニューロン・学習則", "hebb1949organization",
       "同時に活動するニューロン間の結合が強まるという仮説。"),
    _m(1950, "模倣ゲーム(チューリング・テスト)", "Turing", "人工知能全般", "turing1950computing",
       "論文の最終節「学習する機械」で、子どもの機械を教育するという考えを述べた。"),
    _m(1956, "ダートマス会議", "McCarthy, Minsky, Rochester, Shannon", "人工知能全般",
       "mccarthy1955proposal",
       "「人工知能」の名は1955年の提案書に現れ、研究会は1956年夏に開かれた。"),
    _m(1958, "パーセプトロン", "Rosenblatt", "ニューロン・学習則", "rosenblatt1958perceptron",
       "最初の報告書は1957年(rosenblatt1957perceptron)。「Turing (1950) と同時期」や"
       "「1940年代」とする説明はどちらも誤り。"),
    _m(1960, "ADALINE と LMS 則", "Widrow, Hoff", "ニューロン・学習則", "widrow1960adaptive",
       "二乗誤差の勾配に沿って1例ごとに重みを直す(デルタ則)。確率的勾配降下法の先駆け。"),
    _m(1967, "確率的勾配降下法による適応学習", "甘利俊一", "ニューロン・学習則", "amari1967theory",
       "線形分離できない分布でも平均損失を下げる確率的勾配法を解析し、区分線形な識別関数にも拡張した。"),
    _m(1969, "『パーセプトロン』による限界の証明", "Minsky, Papert", "理論", "minsky1969perceptrons",
       "一つの特徴が見る入力の数(次数)が限られたパーセプトロンでは、パリティや図形の連結性を"
       "判定できないことを証明した。"
       "XOR は2入力のパリティにあたる最も小さな例。"),
    _m(1970, "自動微分のリバースモード", "Linnainmaa", "ニューロン・学習則",
       "linnainmaa1970representation",
       "誤差逆伝播法の計算原理。ヘルシンキ大学の修士論文(フィンランド語)。"),
    _m(1971, "VC 理論(一様収束)", "Vapnik, Chervonenkis", "理論", "vapnik1971uniform",
       "「統計的学習理論」の始まり。1940〜50年代を「統計的学習理論の確立」と呼ぶ説明もあるが、"
       "この名はこの系譜(1960年代末以降)のものである。"),
    _m(1972, "連想記憶モデル", "甘利俊一", "アーキテクチャ", "amari1972learning",
       "相互結合型ネットワークによる記憶と想起。よく引かれる Amari (1977) は同じ系統の"
       "連想の理論の論文で、モデル自体は1972年に現れている。"),
    _m(1974, "ニューラルネットへの逆伝播の応用", "Werbos", "ニューロン・学習則",
       "werbos1974beyond", "ハーバード大学の博士論文。"),
    _m(1980, "ネオコグニトロン", "福島邦彦", "アーキテクチャ", "fukushima1980neocognitron",
       "S 細胞と C 細胞の階層。畳み込みとプーリングの原型。"),
    _m(1982, "ホップフィールド・ネットワーク", "Hopfield", "アーキテクチャ", "hopfield1982neural",
       "エネルギー関数が減っていく連想記憶。甘利のモデルと合わせ Amari-Hopfield モデルとも呼ばれる。"),
    _m(1984, "PAC 学習", "Valiant", "理論", "valiant1984theory"),
    _m(1985, "ボルツマンマシン", "Ackley, Hinton, Sejnowski", "生成・マルチモーダル",
       "ackley1985learning"),
    _m(1986, "誤差逆伝播法の普及", "Rumelhart, Hinton, Williams", "ニューロン・学習則",
       "rumelhart1986learning",
       "「1980年代の誤差逆伝播法の発明」と言われることが多いが、計算法は Linnainmaa (1970)、"
       "ニューラルネットへの応用は Werbos (1974) にある。「再発見と普及」と呼ぶほうが近い。"),
    _m(1989, "万能近似定理", "Cybenko; Hornik, Stinchcombe, White", "理論",
       "cybenko1989approximation",
       "隠れ層1層で、コンパクト集合上の連続関数を任意の精度で近似できる(hornik1989multilayer も同年)。"),
    _m(1995, "サポートベクターマシン", "Cortes, Vapnik", "統計的機械学習", "cortes1995support",
       "ソフトマージンの論文。カーネルによる最大マージン分類は Boser, Guyon, Vapnik (1992)。"),
    _m(1997, "AdaBoost", "Freund, Schapire", "統計的機械学習", "freund1997decision",
       "会議版は1995年。2000年代の成果として語られることもあるが、1990年代の成果である。"),
    _m(1997, "LSTM", "Hochreiter, Schmidhuber", "アーキテクチャ", "hochreiter1997long"),
    _m(1998, "LeNet-5", "LeCun, Bottou, Bengio, Haffner", "アーキテクチャ", "lecun1998gradient",
       "逆伝播で学習する畳み込みネット自体は LeCun ら (1989) が手書き郵便番号で示していた。"),
    _m(2001, "ランダムフォレスト", "Breiman", "統計的機械学習", "breiman2001random"),
    _m(2006, "深層信念ネットワーク", "Hinton, Osindero, Teh", "生成・マルチモーダル",
       "hinton2006fast", "RBM を1層ずつ積んで事前学習する。"),
    _m(2012, "AlexNet", "Krizhevsky, Sutskever, Hinton", "アーキテクチャ",
       "krizhevsky2012imagenet"),
    _m(2013, "変分オートエンコーダ(VAE)", "Kingma, Welling", "生成・マルチモーダル",
       "kingma2014auto", "arXiv 2013年、ICLR 2014。"),
    _m(2014, "敵対的生成ネットワーク(GAN)", "Goodfellow ら", "生成・マルチモーダル",
       "goodfellow2014generative"),
    _m(2014, "Adam", "Kingma, Ba", "ニューロン・学習則", "kingma2015adam",
       "arXiv 2014年、ICLR 2015。"),
    _m(2015, "バッチ正規化", "Ioffe, Szegedy", "ニューロン・学習則", "ioffe2015batch"),
    _m(2015, "ResNet", "He, Zhang, Ren, Sun", "アーキテクチャ", "he2016deep",
       "arXiv 2015年、CVPR 2016(文献により年が異なるのはこのため)。動機は勾配消失ではなく、層を増やすと"
       "訓練誤差まで悪化する「劣化問題」であった。"),
    _m(2017, "Transformer", "Vaswani ら", "アーキテクチャ", "vaswani2017attention"),
    _m(2018, "GPT", "Radford ら", "言語モデル", "radford2018improving"),
    _m(2018, "BERT", "Devlin ら", "言語モデル", "devlin2019bert",
       "arXiv 2018年、NAACL 2019(「2018, NAACL」と書かれることがあるが、会議は2019年)。"),
    _m(2019, "GPT-2", "Radford ら", "言語モデル", "radford2019language"),
    _m(2020, "GPT-3", "Brown ら", "言語モデル", "brown2020language"),
    _m(2020, "スケーリング則", "Kaplan ら", "言語モデル", "kaplan2020scaling",
       "L = (C/N)^α と書かれることがあるが不正確。論文の形は L(N) = (N_c/N)^α_N で、N_c は定数(計算量ではない)。"
       "計算量 C、データ量 D についても同じ形の別の法則がある。"),
    _m(2020, "拡散モデル(DDPM)", "Ho, Jain, Abbeel", "生成・マルチモーダル", "ho2020denoising"),
    _m(2021, "CLIP", "Radford ら", "生成・マルチモーダル", "radford2021learning"),
    _m(2022, "Chinchilla", "Hoffmann ら", "言語モデル", "hoffmann2022training"),
    _m(2022, "PaLM", "Chowdhery ら", "言語モデル", "chowdhery2023palm",
       "「Pathways アーキテクチャ」と呼ばれることがあるが、Pathways は学習を分散実行するシステムの名で、"
       "モデル自体はデコーダのみの Transformer。arXiv 2022年、JMLR 2023。"),
    _m(2022, "InstructGPT(RLHF)", "Ouyang ら", "言語モデル", "ouyang2022training"),
    _m(2023, "LLaMA", "Touvron ら", "言語モデル", "touvron2023llama"),
)  # fmt: skip


def milestones(era: str | None = None, category: str | None = None) -> tuple[Milestone, ...]:
    """The milestones of ``era`` (a name in :data:`ERAS`) and ``category`` (one of
    :data:`CATEGORIES`); ``None`` means no filter on that field. Sorted by year."""
    one_of(era, "era", (None, *_ERA_NAMES))
    one_of(category, "category", (None, *CATEGORIES))
    return tuple(
        m
        for m in MILESTONES
        if (era is None or m.era == era) and (category is None or m.category == category)
    )


# One colour and one marker per category, so a category looks the same in every view.
_COLORS = ("#7f7f7f", "#1f77b4", "#9467bd", "#2ca02c", "#ff7f0e", "#d62728", "#17becf")
_MARKERS = ("X", "o", "D", "s", "^", "v", "P")


def timeline_figsize(n_items: int, width: float = 10.0) -> tuple[float, float]:
    """A figure size (inches) in which :func:`plot_timeline` gives each of ``n_items`` a row."""
    nonneg_int(n_items, "n_items")
    positive(width, "width")
    return (width, max(3.2, 0.27 * n_items + 2.0))


def _era_label(name: str) -> str:
    """Era names above the axes, in two lines when long (the bands can be narrow)."""
    if "(" in name:
        return name.replace("(", "\n(")
    return name.replace("の時代", "\nの時代") if len(name) > 6 else name


def _short_people(people: str) -> str:
    """'A, B, C' → 'A ら' (three or more names); one or two names are kept."""
    names = [p.strip() for p in people.replace(";", ",").split(",")]
    return f"{names[0]} ら" if len(names) >= 3 else people


def _timeline_xlim(items: list[Milestone], xlim: tuple[float, float] | None) -> tuple[float, float]:
    """``xlim`` checked, or the items' years (all eras when there are none) with a margin."""
    if xlim is None:
        if items:
            lo, hi = items[0].year, items[-1].year
        else:
            lo, hi = ERAS[0][1], ERAS[-1][2]
        pad = max(2.0, 0.04 * (hi - lo))
        xlim = (lo - pad, hi + pad)
    x0, x1 = float(xlim[0]), float(xlim[1])
    if not x0 < x1:
        raise ValueError(f"xlim must be an increasing pair, got {xlim}")
    return x0, x1


def _draw_eras(ax: Axes, x0: float, x1: float) -> None:
    """The eras as alternating shaded bands, each named above the axes at the middle of its
    visible part."""
    for i, (name, first, last) in enumerate(ERAS):
        left, right = max(first - 0.5, x0), min(last + 0.5, x1)
        if left >= right:
            continue
        ax.axvspan(left, right, color="#e8e8e8" if i % 2 == 0 else "#f7f7f7", zorder=0, lw=0)
        ax.text(
            (left + right) / 2,
            1.005,
            _era_label(name),
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=8,
            color="#444444",
        )


def _draw_milestones(ax: Axes, items: list[Milestone], x0: float, x1: float) -> set[str]:
    """One row per milestone, the earliest at the top, labelled on the side with more room;
    returns the categories drawn."""
    n = len(items)
    mid = x0 + 0.55 * (x1 - x0)
    shown: set[str] = set()
    for row, m in enumerate(items):
        y = n - 1 - row
        k = CATEGORIES.index(m.category)
        ax.scatter(
            [m.year],
            [y],
            s=42,
            color=_COLORS[k],
            marker=_MARKERS[k],
            zorder=3,
            label=m.category if m.category not in shown else None,
        )
        shown.add(m.category)
        on_left = m.year > mid
        ax.annotate(
            f"{m.year} {m.title}({_short_people(m.people)})",
            (m.year, y),
            xytext=(-7 if on_left else 7, 0),
            textcoords="offset points",
            ha="right" if on_left else "left",
            va="center",
            fontsize=9,
        )
    return shown


def _category_legend(ax: Axes) -> None:
    """The legend of the categories, in the order of :data:`CATEGORIES`, below the x axis."""
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: CATEGORIES.index(labels[i]))
    ax.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        title="分野",
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        borderaxespad=3.8,  # in font sizes: below the tick labels and the x label
        ncol=4,
        frameon=False,
    )


def plot_timeline(
    ax: Axes,
    items: Sequence[Milestone],
    xlim: tuple[float, float] | None = None,
    title: str | None = None,
) -> None:
    """Draw ``items`` as a timeline on ``ax``: years on the x axis, one row per milestone (the
    earliest at the top), colour and marker by category, the eras of :data:`ERAS` as shaded bands
    named above the axes.

    ``xlim`` defaults to the items' years with a margin; pass an era's years to show that era whole.
    An empty ``items`` draws a note saying so (a filter may match nothing).
    """
    from mlbook import plot as _plot  # the book's style and Japanese font

    _plot.setup()
    items = list(items)
    for m in items:
        if not isinstance(m, Milestone):
            raise ValueError(f"items must be Milestone objects, got {type(m).__name__}")
    items = sorted(items, key=lambda m: m.year)
    x0, x1 = _timeline_xlim(items, xlim)
    n = len(items)
    ax.set_xlim(x0, x1)
    ax.set_ylim(-0.8, max(n, 1) - 0.2)
    _draw_eras(ax, x0, x1)
    if not items:
        ax.text(0.5, 0.5, "該当する出来事はない", transform=ax.transAxes, ha="center", va="center")
    shown = _draw_milestones(ax, items, x0, x1)
    ax.set_yticks([])
    ax.grid(axis="y", visible=False)
    ax.spines["left"].set_visible(False)
    ax.set_xlabel("年")
    if title is None:
        title = (
            f"機械学習の主な出来事({items[0].year}〜{items[-1].year}年、{n} 件)"
            if items
            else "機械学習の主な出来事"
        )
    ax.set_title(title, pad=30)
    if shown:
        _category_legend(ax)
