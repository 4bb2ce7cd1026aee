"""The demo district's places and units: 长治市 > 潞州区 > 街道/镇 > 社区/村 > 网格.

Streets, communities and villages are named after the source documents where they name one
(五马街道, 西白兔镇, 英雄中路街道, 城北庄街道, 西街, 南街, 老顶山; 莲花池社区, 具前巷社区, 湛上村, 鹿家庄村,
暴马村, 南垂村, 果园村, 安昌村, 双桥庄村, 潭村); the others are plausible generic names. Enterprises are
invented. Division and unit codes are short, stable ASCII.
"""

from __future__ import annotations

from dataclasses import dataclass

CITY = ("CZS", "长治市")
DISTRICT = ("LZQ", "潞州区")  # the luzhou rule pack applies to division code LZQ
# The people's governments as units (codes kept from when they were the 政府办公室): the district's
# bureaus are units under the district government, so that a 信访 复查 of a bureau's 处理意见 goes to the
# body one level above it (区人民政府), and a 复核 to the city's (市人民政府, a department of the city).
CITY_GOVERNMENT = ("CZS-ZFB", "长治市人民政府")
DISTRICT_GOVERNMENT = ("LZQ-ZFB", "潞州区人民政府")
NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class Community:
    code: str
    name: str
    rural: bool
    grids: int
    estates: tuple[str, ...] = ()  # residential compounds, used in addresses

    def grid_name(self, i: int) -> str:
        return f"{self.name}第{NUMERALS[i]}网格"


@dataclass(frozen=True)
class Street:
    code: str
    name: str
    lat: float
    lon: float
    roads: tuple[str, ...]
    communities: tuple[Community, ...]
    weight: int = 1  # how many of the demo's cases happen here, relatively

    @property
    def office_code(self) -> str:
        return f"{self.code}-YJB"

    @property
    def office_name(self) -> str:
        return f"{self.name}应急办"


def _c(code: str, name: str, grids: int, *estates: str, rural: bool = False) -> Community:
    return Community(code, name, rural, grids, estates)


STREETS: tuple[Street, ...] = (
    Street(
        "WMJD",
        "五马街道",
        36.168,
        113.137,
        ("五马路", "城东路", "东环路"),
        (
            _c("WM", "五马社区", 3, "东门新苑小区", "五马新村小区"),
            _c("TY", "桃园社区", 2, "华悦尚城小区", "桃园里小区"),
            _c("AJ", "安居社区", 2, "安居苑回迁小区"),
            _c("DS", "东山村", 1, rural=True),
        ),
        weight=4,
    ),
    Street(
        "XBTZ",
        "西白兔镇",
        36.118,
        113.046,
        ("园区大道", "白兔路"),
        (
            _c("XBT", "西白兔村", 2, rural=True),
            _c("TC", "潭村", 2, rural=True),
            _c("DBT", "东白兔村", 1, rural=True),
        ),
        weight=3,
    ),
    Street(
        "YXZL",
        "英雄中路街道",
        36.197,
        113.117,
        ("英雄中路", "府后西街", "站前路"),
        (
            _c("JQX", "具前巷社区", 2, "具前巷13号院", "具前巷7号院"),
            _c("FH", "府后社区", 2, "府后小区", "府后西街综合楼"),
            _c("YXT", "英雄台社区", 1, "英雄台小区"),
        ),
        weight=2,
    ),
    Street(
        "CBZJD",
        "城北庄街道",
        36.222,
        113.098,
        ("城北路", "北环路"),
        (
            _c("ZS", "湛上村", 2, rural=True),
            _c("LJZ", "鹿家庄村", 2, rural=True),
            _c("BM", "暴马村", 1, rural=True),
        ),
        weight=2,
    ),
    Street(
        "XJJD",
        "西街街道",
        36.193,
        113.106,
        ("西街", "普通街", "城隍庙街"),
        (
            _c("LHC", "莲花池社区", 3, "莲花池小区", "莲花池南院"),
            _c("SDM", "上党门社区", 2, "上党门小区", "城隍庙街3号院"),
        ),
        weight=2,
    ),
    Street(
        "NJJD",
        "南街街道",
        36.186,
        113.112,
        ("东洲门街", "南街"),
        (
            _c("DZM", "东洲门社区", 2, "东洲门街老院", "东洲门小区"),
            _c("NJ", "南街社区", 1, "南街商住楼"),
        ),
    ),
    Street(
        "LDSJD",
        "老顶山街道",
        36.205,
        113.165,
        ("老顶山路", "东山路"),
        (
            _c("NC", "南垂村", 2, rural=True),
            _c("GY", "果园村", 1, rural=True),
            _c("AC", "安昌村", 1, rural=True),
            _c("SQZ", "双桥庄村", 1, rural=True),
        ),
    ),
)


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    enforcement: bool = False
    vertical: bool = (
        False  # led from above (消防救援 by the city's 支队), not a unit of the district government
    )


DEPARTMENTS: tuple[Department, ...] = (
    Department("LZQ-YJJ", "潞州区应急管理局"),
    Department("LZQ-ZJJ", "潞州区住房和城乡建设局"),
    Department("LZQ-XFDD", "潞州区消防救援大队", enforcement=True, vertical=True),
    Department("LZQ-SJJ", "潞州区市场监督管理局"),
    Department("LZQ-ZFJ", "潞州区综合行政执法局", enforcement=True),
    Department("LZQ-CGJ", "潞州区城市管理局"),
    Department("LZQ-JTJ", "潞州区交通运输局"),
)


@dataclass(frozen=True)
class Workshop:
    code: str
    name: str
    teams: tuple[str, ...]


@dataclass(frozen=True)
class Enterprise:
    """An invented enterprise (no real company's name) with its 车间 and 班组."""

    code: str
    name: str
    community: str  # full community code, e.g. "XBTZ-XBT"
    kind: str  # hazchem, coking, mine, warehouse, building materials
    workshops: tuple[Workshop, ...]


ENTERPRISES: tuple[Enterprise, ...] = (
    Enterprise(
        "QY-JRHG",
        "晋瑞精细化工有限公司",
        "XBTZ-XBT",
        "hazchem",
        (
            Workshop("HC", "合成车间", ("合成一班", "合成二班")),
            Workshop("GQ", "罐区", ("储运班",)),
        ),
    ),
    Enterprise(
        "QY-CHJH",
        "澄泓焦化有限公司",
        "XBTZ-TC",
        "coking",
        (
            Workshop("LJ", "炼焦车间", ("炼焦甲班", "炼焦乙班")),
            Workshop("HCH", "化产回收车间", ("回收班",)),
        ),
    ),
    Enterprise(
        "QY-LYMY",
        "岚岳煤业有限公司",
        "XBTZ-DBT",
        "mine",
        (
            Workshop("ZC", "综采队", ("综采一班",)),
            Workshop("JD", "机电队", ("机电维修班",)),
        ),
    ),
    Enterprise(
        "QY-HPWL", "禾畔物流仓储有限公司", "CBZJD-LJZ", "warehouse", (Workshop("CC", "仓储部", ("装卸班",)),)
    ),
    Enterprise(
        "QY-LYJC", "砺远新型建材有限公司", "LDSJD-GY", "materials", (Workshop("JB", "搅拌车间", ("搅拌班",)),)
    ),
)

# Invented small businesses ("九小场所") for addresses and descriptions.
SHOPS = (
    "福源小吃店",
    "鑫隆五金店",
    "悦来宾馆",
    "好邻居便利店",
    "老味道面馆",
    "康宁药店",
    "兴旺电动车维修部",
    "金鼎火锅店",
    "乐享台球厅",
    "宏发建材店",
    "晋味刀削面馆",
    "阳光托管班",
    "巧手裁缝铺",
    "顺达快递驿站",
)
