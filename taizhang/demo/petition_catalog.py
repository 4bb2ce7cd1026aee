"""What the demo's petitions (信访事项) say: requests, the competent body, its 处理意见 and the 复查/复核 answers.

Petitioners, companies and facts are invented; places are the demo's. Placeholders as in
demand_catalog.py ({addr}, {village}, {estate}, {road}, {company}, {k}, {unit}, {later} …).
"""

from __future__ import annotations

from dataclasses import dataclass

from .demand_catalog import STREET_OFFICE


@dataclass(frozen=True)
class PetitionText:
    key: str
    category: str  # appeal 申诉求决类, suggestion 建议意见类, accusation 检举控告类
    where: str  # estate, road, village, anywhere
    title: str
    request: str
    unit: str  # the competent body: a unit code or STREET_OFFICE
    decision: str = "explain"  # support, explain, reject
    reply: str = ""  # 处理意见书正文
    review_request: str = ""
    review_reply: str = ""
    recheck_request: str = ""
    recheck_reply: str = ""
    decline: tuple[str, str] = ("", "")  # (不予受理理由, 告知的处理途径): only petitions that are declined
    people: int = 1


PETITIONS: tuple[PetitionText, ...] = (
    PetitionText(
        "land_compensation",
        "appeal",
        "village",
        "反映{village}土地征收补偿款分配问题",
        "信访人称{village}{k}组集体土地被征收后，村集体分配土地补偿费时未将其户内两名家庭成员计入，"
        "请求按实际人口重新分配。",
        STREET_OFFICE,
        "reject",
        "经{unit}调查核实，{village}土地补偿费分配方案经村民代表会议表决通过并公示，以征收公告发布之日的"
        "在册集体经济组织成员为分配对象。信访人户内两人于公告后迁入，不属于分配对象。依据《中华人民共和国"
        "土地管理法》和该村分配方案，对信访人的请求不予支持。",
        "信访人认为分配基准日的确定不合理，请求复查。",
        "经复查，原处理意见认定事实清楚，适用依据正确，程序合法，维持原处理意见。",
        "信访人对复查意见不服，请求复核。",
        "经复核，原处理意见和复查意见认定事实清楚、依据正确，维持复查意见。本复核意见为最终意见，"
        "信访人以同一事实和理由再次提出的，不再受理。",
    ),
    PetitionText(
        "resettlement_delay",
        "appeal",
        "estate",
        "{estate}回迁安置房逾期未交付",
        "信访人等{k}户回迁户反映，按安置协议应于去年年底交房，至今未交付，过渡安置费也已停发半年，"
        "请求尽快交房并补发过渡安置费。",
        "LZQ-ZJJ",
        "support",
        "经区住建局调查，该项目因施工单位资金问题停工四个月，现已复工。已责令建设单位于{later}前补发"
        "拖欠的过渡安置费，并按安置协议承诺明年6月底前交房，逾期按协议支付违约金。对信访人的请求予以支持。",
        "信访人认为交房时间仍无保障，请求复查。",
        "经复查，原处理意见已落实过渡安置费补发，交房节点有建设单位书面承诺和区住建局督办，维持原处理意见。",
        people=6,
    ),
    PetitionText(
        "wage_arrears",
        "appeal",
        "road",
        "{company}拖欠工程款导致工人工资无法发放",
        "信访人代表{k}名工人反映，在{addr}的工程完工后，{company}以建设单位未结算工程款为由，"
        "拖欠工人工资约{money}元，请求督促支付。",
        "LZQ-RSJ",
        "support",
        "经区人社局调查，依据《保障农民工工资支付条例》，施工总承包单位对所承包工程的农民工工资支付负总责。"
        "已责令总承包单位于{later}前通过农民工工资专用账户足额支付，并将{company}列入重点监控名单。"
        "对信访人的请求予以支持。",
        people=12,
    ),
    PetitionText(
        "pension_calc",
        "appeal",
        "anywhere",
        "对退休养老金核定结果有异议",
        "信访人称其上世纪八十年代在集体企业工作的年限未计入视同缴费年限，导致养老金偏低，请求重新核定。",
        "LZQ-RSJ",
        "explain",
        "经区人社局调阅信访人人事档案，其1984年至1989年在集体企业的工作经历缺少招工审批和工资记录等原始材料，"
        "依据国家和省有关视同缴费年限认定的规定暂不能认定。如信访人能补充当年的原始档案材料，可申请重新核定。",
        "信访人补充了同事证明，请求复查。",
        "经复查，同事证明不属于认定视同缴费年限的原始材料，原处理意见并无不当，维持原处理意见。",
    ),
    PetitionText(
        "owners_committee",
        "appeal",
        "estate",
        "{estate}业主委员会换届选举程序违规",
        "信访人等业主反映，{estate}业主委员会换届时未按规定公示候选人名单，投票率不足也宣布当选，请求重新选举。",
        STREET_OFFICE,
        "support",
        "经{unit}会同社区调查，该小区业主委员会换届选举未按《业主大会和业主委员会指导规则》公示候选人，"
        "参与投票的业主未达到法定比例，选举结果无效。已责令重新组织选举，{later}前成立换届选举小组。"
        "对信访人的请求予以支持。",
        people=5,
    ),
    PetitionText(
        "road_widening",
        "suggestion",
        "road",
        "关于{road}拓宽改造的建议",
        "信访人建议将{road}拓宽为双向四车道，并增设非机动车道和行道树，缓解早晚高峰拥堵。",
        "LZQ-JTJ",
        "explain",
        "感谢您的建议。经区交通运输局研究，{road}拓宽涉及沿线房屋征收，已列入城市道路中长期规划；"
        "近期将先行优化路口渠化和信号配时，施划非机动车道，{later}前完成。",
    ),
    PetitionText(
        "village_official",
        "accusation",
        "village",
        "反映{village}村干部违规办理低保",
        "信访人反映{village}有村干部为不符合条件的亲属办理最低生活保障。",
        STREET_OFFICE,
        decline=(
            "所反映事项属于检举控告党员和公职人员违纪违法问题，依规由纪检监察机关处理。",
            "请向潞州区纪委监委信访室反映，或通过纪检监察机关举报网站、举报电话提出。",
        ),
    ),
    PetitionText(
        "court_judgment",
        "appeal",
        "anywhere",
        "对房屋买卖合同纠纷判决不服",
        "信访人称其与他人房屋买卖合同纠纷一案已经法院判决，认为判决不公，请求政府出面改变判决结果。",
        "LZQ-ZJJ",
        decline=(
            "所反映事项已经人民法院作出生效判决，属于应当通过诉讼程序解决的事项，不属于信访事项受理范围。",
            "可依法向上一级人民法院申请再审，或向人民检察院申请法律监督。",
        ),
    ),
)
DECLINED = tuple(p for p in PETITIONS if p.decline[0])
HANDLED = tuple(p for p in PETITIONS if not p.decline[0])
TRANSFER_OPINIONS = ("依据《信访工作条例》，转送有权处理机关办理", "请按规定时限书面告知信访人是否受理并办理")
HEARING_RECORD = "听证会听取了信访人、有关单位和群众代表意见，事实已基本查清"
