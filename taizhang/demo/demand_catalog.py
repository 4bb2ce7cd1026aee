"""What the demo's 12345 demands say: the shape of a demand template and the texts every demand shares.

The templates themselves are in taizhang/demo/demand_texts/ (by topic). Every person, company,
school and shop named is invented; the places are the demo's (places.py). Phone numbers appear only
masked (138****0421), the way a 12345 work order shows them.

Placeholders: {addr} (the full place), {estate}, {bldg}, {road}, {village}, {shop}, {community},
{street}, {company}, {school}, {gym}, {agency}, {route}, {dir}, {k} (a small count), {t} (℃),
{money}, {balance}, {meters}, {ports}; in replies also {unit} (the
answering unit), {today} and {later} (dates as 11月18日).
"""

from __future__ import annotations

from dataclasses import dataclass

TOPICS = ("城乡建设", "劳动和社会保障", "教育文体", "商贸旅游", "环境保护", "卫生计生", "交通运输")
STREET_OFFICE = "street"  # a template's unit meaning "the 办事处 of the street the demand is in"


@dataclass(frozen=True)
class DemandText:
    """One kind of demand: what the caller says, who answers it, and a good answer."""

    key: str
    topic: str
    category: str  # consult 咨询, help 求助, complaint 投诉, report 举报, suggestion 意见建议
    # estate (a compound in a city community), road, village, shop (any), eatery, store, anywhere (no place)
    where: str
    title: str
    description: str
    reply: str  # cites the rule or the facts, says what was done and when
    units: tuple[str, ...]  # the lead unit: a unit code or STREET_OFFICE; the first is the usual one
    co_units: tuple[str, ...] = ()  # 协办 units when the demand needs them
    grade: str = "general"  # general, utilities (水电气热, 24 h), emergency (2 h), complex (15 days)
    assist: str = ""  # the 协办 unit's feedback
    hot: bool = False  # neighbours call about it again within days: a hot spot


# Answers that say nothing: reply-quality scoring must flag them.
POOR_REPLIES = (
    "已收悉，正在处理。",
    "您好，您反映的问题已收悉，正在处理中，感谢您对我们工作的支持！",
    "您好，来电反映的情况已转相关部门处理，感谢您的来电。",
    "经核实，已处理。",
    "您的诉求我单位已收到，现回复如下：已安排相关人员处理，感谢您的理解与支持！",
    "收到，已转交责任科室办理。",
)
# On topic but without basis, measures or dates.
PARTIAL_REPLIES = (
    "关于您反映的{title}问题，{unit}已安排工作人员了解情况，将尽快协调解决。",
    "您反映的{title}情况我们已知晓，正在与有关方面沟通，请您耐心等待。",
    "{unit}已联系相关负责人，要求其重视您反映的问题并加以改进。",
)
# Invented names (no real company, school or business).
COMPANIES = (
    "筑垣建筑劳务有限公司",
    "锦樾物业服务有限公司",
    "禾曜商贸有限公司",
    "骋途汽车服务有限公司",
    "味栖餐饮管理有限公司",
    "迅翎快递服务有限公司",
)
SCHOOLS = ("明远小学", "育英小学", "启新中学", "晨曦实验小学")
EATERIES = ("串香烧烤店", "老味道面馆", "金鼎火锅店", "晋味刀削面馆", "福源小吃店", "炭火小串烧烤城")
STORES = ("好邻居便利店", "鑫隆五金店", "惠万家生活超市", "康宁药店", "乐购便民店")
GYMS = ("力恒健身会所", "悦泳游泳健身馆", "跃动体能训练馆")
AGENCIES = ("启智学堂培训中心", "博思教育咨询服务部", "优学辅导中心")
ROUTES = ("3路", "7路", "11路", "16路", "23路", "28路")
CALLER_SURNAMES = "王李张刘赵郭杨武牛申郝贾韩田秦常冯段崔程史靳栗侯路苗焦梁董白孟吕高石薛"
# Openings of the work order's description, by channel.
OPENERS = {
    "hotline": ("来电人反映：", "市民来电称：", "来电人{caller}反映：", "来电反映："),
    "web": ("网友留言：", "市民在政府网站留言称：", "网民反映："),
    "app": ("网格员走访时群众反映：", "网格员上报群众诉求："),
}
DISPATCH_OPINIONS = (
    "请按时限办理并及时答复来电人",
    "请核实情况，依职责办理，按时答复",
    "请于时限内办结并上传办理结果",
)
SIGN_OPINIONS = ("已签收，安排专人办理", "已签收，立即核实处理", "已签收")
REPLY_OPINIONS = (
    "已电话联系来电人告知办理结果",
    "已与诉求人当面沟通，说明办理情况",
    "已答复诉求人",
)
CO_OPINIONS = "请{co}配合主办单位办理，协办意见在时限内反馈主办单位"
ASSIST_GENERIC = "已派员配合主办单位到现场核查，本单位职责范围内的事项已处理，情况已反馈主办单位"
RETURN_REASONS = (
    "经核实，该事项属于{right}职责范围，非本单位职责，申请退单改派",
    "诉求地点不在本单位管辖范围内，应由{right}办理，申请退单",
)
REFUSE_RETURN = (
    "经核实，该事项属于你单位职责范围（依据12345派单目录），驳回退单，请签收办理",
    "该事项你单位负有属地管理责任，驳回退单，请按时办理",
)
ACCEPT_RETURN = "退单理由成立，改派{right}办理"
EXTEND_REASONS = (
    "需协调多个部门并进行现场施工，原时限内无法办结，申请延期",
    "涉及资金审批和维修方案论证，申请延期办理",
    "当事方联系不上，需进一步调查取证，申请延期",
)
VISIT_UNSATISFIED = (
    "来电人表示问题仍未解决，答复内容与实际情况不符，要求重新办理",
    "来电人对办理结果不认可，称工作人员未到现场核实",
    "来电人表示只接到一个电话，没有看到实际处理措施",
)
UNREACHABLE = ("回访三次均无人接听，按规定办结", "来电人电话关机，回访未接通，按规定办结")
MERGE_OPINION = "重复来电：与{master}反映同一地点同一问题，并入{master}办理，办理结果一并答复"
URGE_OPINIONS = (
    "该诉求已超期，请承办单位立即办理并答复来电人",
    "请加快办理进度，今日内报送办理情况",
)
FLAG_OPINIONS = ("诉求超期未办结，纳入作风监督台账", "群众多次反映未解决，列入跟踪监督")
SECOND_REPLY = "经重新办理，{unit}已再次派员到现场，问题已整改到位，{today}已当面向诉求人说明情况并征得认可。"
# Calls that are not demands at all: (title, description, reason for 无效诉求).
INVALID: tuple[tuple[str, str, str], ...] = (
    (
        "来电咨询彩票开奖结果",
        "来电人询问当期彩票开奖号码和兑奖地点。",
        "不属于12345政务服务热线受理范围，已告知其向彩票销售机构咨询",
    ),
    (
        "要求政府代为追讨私人借款",
        "来电人称借给朋友的钱款逾期未还，要求政府出面追讨。",
        "属民间借贷纠纷，应通过人民调解或诉讼途径解决，不予受理，已告知途径",
    ),
    (
        "要求查询他人住址和联系方式",
        "来电人要求查询某亲戚的住址和联系方式。",
        "涉及他人个人信息，不予提供，不予受理",
    ),
    (
        "来电无实质诉求",
        "来电人接通后未说明具体事项，多次询问后挂断。",
        "来电人未反映具体诉求，无法形成工单",
    ),
)


@dataclass(frozen=True)
class Outcome:
    """A call closed at 受理 without dispatch: handed to 110/119/120, or guided to a legal channel."""

    transition: str  # refer_emergency or guide_legal
    topic: str
    category: str
    title: str
    description: str
    fields: tuple[tuple[str, str], ...]  # the transition's form fields
    opinion: str = ""


REFERRALS: tuple[Outcome, ...] = (
    Outcome(
        "refer_emergency",
        "城乡建设",
        "help",
        "小区地下车库内有车辆冒烟",
        "来电人称小区地下车库一辆电动汽车正在冒烟，有焦糊味。",
        (
            ("emergency_service", "fire"),
            (
                "caller_told",
                "已三方通话转119，请来电人立即远离车辆、疏散周边人员，在安全位置等候消防救援人员。",
            ),
        ),
    ),
    Outcome(
        "refer_emergency",
        "卫生计生",
        "help",
        "路边有老人摔倒不能起身",
        "来电人称路边一位老人摔倒后无法起身，意识清醒但腿部疼痛。",
        (
            ("emergency_service", "ambulance"),
            ("caller_told", "已转120急救中心，请来电人不要随意搬动老人，保持电话畅通，等候救护车。"),
        ),
    ),
    Outcome(
        "refer_emergency",
        "城乡建设",
        "report",
        "有人在小区内打架斗殴",
        "来电人称小区广场有多人打架，有人受伤。",
        (
            ("emergency_service", "police"),
            ("caller_told", "已转110指挥中心处置，请来电人注意自身安全，不要靠近。"),
        ),
    ),
)
GUIDED: tuple[Outcome, ...] = (
    Outcome(
        "guide_legal",
        "劳动和社会保障",
        "complaint",
        "被公司辞退要求经济补偿",
        "来电人称被所在公司无故辞退，公司拒绝支付经济补偿，要求政府责令公司赔偿。",
        (
            ("legal_channel", "arbitration"),
            (
                "caller_told",
                "已告知属于劳动争议，可携带劳动合同和工资记录向潞州区劳动人事争议仲裁委员会申请仲裁，并告知地址和电话。",
            ),
        ),
        "属于劳动争议，依法应通过劳动仲裁解决",
    ),
    Outcome(
        "guide_legal",
        "城乡建设",
        "complaint",
        "对房屋征收补偿决定不服",
        "来电人对区政府作出的房屋征收补偿决定不服，要求12345改变补偿决定。",
        (
            ("legal_channel", "reconsideration"),
            (
                "caller_told",
                "已告知可自知道补偿决定之日起60日内申请行政复议，或6个月内提起行政诉讼，并告知复议机关受理地点。",
            ),
        ),
        "对行政决定不服，应通过行政复议或行政诉讼解决",
    ),
)
