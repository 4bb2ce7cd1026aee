"""What the demo's hazards are about: titles, descriptions, measures and outcomes per kind of hazard.

Templates use {addr} (full address), {estate}, {bldg}, {shop}, {road}, {village}, {ent}, {ws}, {dir} and {k}.
`where` says what kind of place the hazard is found at: estate (residential compound), shop, road,
village, or enterprise (then `kinds` lists the enterprise kinds it fits).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hazard:
    key: str
    category: str
    where: str
    title: str
    description: str
    grades: tuple[int, int, int]  # relative weights of 一般 / 较大 / 重大
    units: tuple[str, ...]  # "street" (the street's 应急办), "enterprise" (a workshop) or a unit code
    measures: str
    done: str
    spot: str = ""  # 即查即改 opinion when it can be fixed on the spot
    cordon: str = ""  # 封控措施 when it may need a cordon and evacuation
    enforcer: str = ""  # enforcement unit when a refusal goes to 联合执法
    basis: str = ""  # 执法依据
    park: str = ""  # 挂账原因 when it may be parked
    kinds: tuple[str, ...] = ()
    site: str = ""  # the address when it is not a house number, e.g. "{village}集贸市场"

    def grade_choices(self) -> list[tuple[str, int]]:
        return [(g, w) for g, w in zip(("general", "larger", "major"), self.grades, strict=True) if w]


FIRE_LAW = "《中华人民共和国消防法》第十六条、第六十条"
H = Hazard
HAZARDS: tuple[Hazard, ...] = (
    # 消防安全
    H("corridor", "fire", "estate", "{estate}{bldg}楼道堆放杂物堵塞消防通道",
      "巡查发现{addr}楼道内堆放纸箱、旧家具、泡沫板等可燃杂物，占用疏散通道，一旦起火易造成人员被困。",
      (8, 2, 0), ("street", "LZQ-XFDD"), "通知物业和住户限时清理楼道杂物，设置禁止堆放警示标识",
      "楼道杂物已全部清理，物业已建立每日巡查制度", spot="现场督促住户和物业清理楼道杂物，已清理完毕"),
    H("hydrant", "fire", "estate", "{estate}高层住宅室内消火栓无水",
      "{addr}共{k}层，现场测试多个楼层室内消火栓无水，消防水泵控制柜处于手动状态，稳压设施损坏，"
      "属高层住宅“消防无水”隐患。",
      (0, 5, 5), ("LZQ-XFDD", "LZQ-ZJJ"), "维修消防水泵及稳压设施并恢复自动状态；整改期间配置移动消防泵和灭火器，物业专人值守",
      "消防水泵及稳压罐已维修，控制柜恢复自动状态，逐层测试消火栓出水压力正常",
      enforcer="LZQ-XFDD", basis=FIRE_LAW, park="需更换整套消防供水管网，已纳入老旧小区改造计划，整改期间落实移动消防泵和专人值守"),
    H("fire_lane", "fire", "estate", "{estate}消防车通道被私家车长期占用",
      "{addr}东侧消防车通道被{k}辆私家车长期停放占用，未施划标线和禁停标识，消防车无法通行。",
      (9, 1, 0), ("street", "LZQ-CGJ"), "施划消防车通道标线和禁停标识，物业劝离占道车辆",
      "已施划消防车通道标线，设置禁停标识和隔离桩", spot="现场联系车主挪车，已恢复通道畅通",
      enforcer="LZQ-XFDD", basis="《中华人民共和国消防法》第二十八条、第六十条"),
    H("extinguisher", "fire", "shop", "{shop}灭火器过期、数量不足",
      "{addr}营业面积约{k}0平方米，仅配置1具灭火器且压力表指针在红区，已超过维修期限。",
      (10, 0, 0), ("street", "LZQ-XFDD"), "按场所面积配齐合格灭火器，建立每月检查记录",
      "已购置并配齐合格灭火器，张贴检查记录卡", spot="现场督促店主更换合格灭火器2具，已配齐"),
    H("three_in_one", "fire", "shop", "{shop}“三合一”场所违规住人",
      "{addr}经营区与住宿区未进行防火分隔，阁楼内住有{k}人，疏散通道仅一处，属“三合一”场所违规住人。",
      (2, 7, 1), ("street", "LZQ-XFDD"), "立即清理住宿人员，按规范设置防火分隔和独立疏散通道",
      "住宿人员已全部搬离，阁楼已拆除，经营区与仓储区已实施防火分隔",
      enforcer="LZQ-XFDD", basis="《中华人民共和国消防法》第十九条、第六十一条"),
    H("exit_sign", "fire", "estate", "{estate}地下车库疏散指示标志损坏、应急照明失效",
      "{addr}地下车库{k}处疏散指示标志不亮，应急照明灯断电后无法启动。",
      (8, 2, 0), ("street", "LZQ-XFDD"), "更换损坏的疏散指示标志和应急照明灯，落实每月测试",
      "已更换疏散指示标志和应急照明灯，断电测试正常"),
    H("market", "fire", "village", "{village}集贸市场摊位占用消防通道、私拉电线",
      "{addr}内摊位向通道延伸约{k}米，消防通道宽度不足，部分摊位私拉电线照明。",
      (6, 4, 0), ("street", "LZQ-SJJ"), "清理占道摊位，施划摊位线，统一规范照明用电",
      "占道摊位已清理，施划摊位线，私拉电线已拆除并改为统一供电", site="{village}集贸市场"),
    H("burning", "fire", "village", "{village}林地边缘违规焚烧秸秆",
      "巡查发现{addr}附近林地边缘有村民焚烧秸秆和杂草，距林区约{k}0米，存在引发森林火灾风险。",
      (7, 3, 0), ("street",), "扑灭火点，清理林缘可燃物，加强卡口值守和防火宣传",
      "火点已扑灭，林缘可燃物已清理，已设置防火宣传牌", spot="现场扑灭火点，对当事人进行批评教育",
      site="{village}{dir}林地边缘"),
    # 用电安全
    H("ebike", "electrical", "estate", "{estate}{bldg}电动自行车楼道停放充电",
      "{addr}楼道内停放电动自行车{k}辆，其中2辆从住户窗口“飞线”充电，违反电动自行车停放充电管理规定。",
      (9, 1, 0), ("street",), "清理楼道电动自行车，引导到集中充电车棚充电，拆除飞线",
      "楼道电动车已清理，小区新建集中充电车棚1处并投入使用", spot="现场劝导车主将电动车推出楼道，拆除飞线",
      enforcer="LZQ-XFDD", basis="《高层民用建筑消防安全管理规定》第三十七条、第四十七条"),
    H("wiring", "electrical", "shop", "{shop}私拉乱接电线、插排串接",
      "{addr}后厨电线私拉乱接，多个插排串接使用，电线外皮老化，靠近灶台。",
      (9, 1, 0), ("street", "LZQ-SJJ"), "拆除私拉电线，由电工重新布线，更换合格插座",
      "已由持证电工重新布线，更换合格插座并加装漏电保护器", spot="现场督促店主拆除私拉电线，更换合格插排"),
    H("switchbox", "electrical", "estate", "{estate}配电箱锈蚀、线路老化裸露",
      "{addr}单元配电箱锈蚀，箱门缺失，线路老化裸露，雨天有漏电风险。",
      (5, 4, 1), ("LZQ-ZJJ", "street"), "更换配电箱和老化线路，加装漏电保护器",
      "已更换配电箱及老化线路，加装漏电保护器", park="配电设施改造需供电公司统一实施，已报送改造计划，期间设置警示并定期巡查"),
    H("overhead", "electrical", "village", "{village}{k}组架空电线与树木搭挂",
      "{addr}低压架空线与树枝搭挂，大风天气有断线、漏电风险。",
      (7, 3, 0), ("street",), "协调供电所修剪树枝、调整线路", "供电所已修剪树枝并对线路进行绝缘包覆",
      site="{village}{k}组"),
    # 燃气安全
    H("gas_pipe", "gas", "estate", "{estate}燃气管道老化锈蚀",
      "{addr}燃气立管锈蚀严重，{k}处接口有轻微异味，部分管道被住户包封在橱柜内。",
      (3, 5, 2), ("LZQ-CGJ", "LZQ-ZJJ"), "燃气企业更换锈蚀立管，拆除包封，整改前加密巡检",
      "锈蚀燃气立管已更换，包封已拆除，检漏合格", park="立管更换需纳入燃气老化管网改造项目统一实施，期间每周巡检"),
    H("lpg", "gas", "shop", "{shop}液化气钢瓶与灶具未分离、未安装燃气报警器",
      "{addr}厨房内存放液化气钢瓶{k}个，与灶具同处一室，未安装可燃气体报警器和自动切断装置。",
      (7, 3, 0), ("LZQ-CGJ", "street"), "设置独立气瓶间，安装燃气泄漏报警器和自动切断阀",
      "已设置独立气瓶间并安装燃气泄漏报警器和自动切断阀", spot="现场督促将气瓶移至室外独立气瓶间",
      enforcer="LZQ-ZFJ", basis="《城镇燃气管理条例》第二十八条、第四十九条"),
    H("gas_leak", "gas", "estate", "{estate}{bldg}燃气泄漏",
      "居民反映{addr}楼道内燃气味浓，现场检测可燃气体浓度超标，疑似表前阀门泄漏。",
      (0, 3, 7), ("LZQ-CGJ",), "关阀止漏，更换泄漏阀门并对整栋管道检漏",
      "泄漏阀门已更换，整栋管道检漏合格后恢复供气",
      cordon="关闭单元燃气总阀，疏散本单元住户，设置警戒区域，严禁明火和开关电器"),
    # 房屋安全
    H("self_built", "building", "village", "{village}经营性自建房墙体开裂",
      "{addr}一处{k}层经营性自建房（一层为超市和餐馆）承重墙出现多条斜向裂缝，未做房屋安全鉴定。",
      (0, 6, 4), ("LZQ-ZJJ", "street"), "委托有资质的机构进行安全鉴定，按鉴定结论加固或拆除",
      "经安全鉴定为C级，已完成加固并复鉴合格",
      cordon="停止经营，撤离人员，设置警戒线和警示标志，专人看守",
      park="房屋加固需产权人筹措资金，已签订承诺书，期间停止经营并专人看守"),
    H("d_house", "building", "village", "{village}D级危房仍有人居住",
      "{addr}土木结构老房经鉴定为D级危房，屋面局部塌陷，仍有{k}名老人居住。",
      (0, 2, 8), ("LZQ-ZJJ", "street"), "动员居住人员搬离，拆除危房或封闭管理",
      "危房已拆除，原住户已妥善安置",
      cordon="立即动员居住人员撤离，封闭房屋，设置警示标志",
      park="房屋产权涉及多户继承纠纷，拆除需待法院判决，已落实封闭和专人看守措施"),
    H("extension", "building", "village", "{village}自建房违规加层扩建",
      "{addr}自建房在原两层基础上违规加建第三层彩钢房，未经审批和设计，存在结构安全隐患。",
      (3, 6, 1), ("LZQ-ZFJ", "LZQ-ZJJ"), "责令停止施工，拆除违规加建部分", "违规加建部分已拆除"),
    H("facade", "building", "estate", "{estate}外墙瓷砖空鼓脱落",
      "{addr}外墙瓷砖多处空鼓，近日已有瓷砖脱落砸坏楼下车辆，下方为人行通道。",
      (5, 5, 0), ("LZQ-ZJJ", "street"), "设置警戒区域，清除空鼓瓷砖并修复外墙",
      "已清除空鼓瓷砖并采用真石漆修复外墙", park="维修资金需经业主表决使用，已纳入老旧小区改造计划，期间设置警戒区"),
    H("demolition", "building", "road", "{road}拆除工地围挡破损、渣土未覆盖",
      "{addr}老旧建筑拆除工地围挡倒塌约{k}米，渣土未覆盖，行人从工地旁绕行。",
      (6, 4, 0), ("LZQ-ZJJ", "LZQ-CGJ"), "修复围挡，覆盖渣土，设置警示标志和夜间警示灯",
      "围挡已修复，渣土全部覆盖，设置警示标志和警示灯"),
    # 危险化学品
    H("chem_store", "hazchem", "enterprise", "{ent}危化品仓库混存、超量储存",
      "{addr}危化品仓库内甲醇与氧化剂同库混存，实际储量超出设计储量约{k}0%，部分包装桶未张贴安全标签。",
      (1, 6, 3), ("enterprise", "LZQ-YJJ"), "按禁忌物料配存表分区分库储存，清理超量物料，完善安全标签和出入库台账",
      "已分库储存，超量物料已转运，安全标签和出入库台账已完善", kinds=("hazchem", "warehouse")),
    H("detector", "hazchem", "enterprise", "{ent}{ws}可燃气体报警仪超期未检定",
      "{addr}现场{k}台可燃气体检测报警仪检定标签已过期，报警值设置与规范不符。",
      (6, 4, 0), ("enterprise",), "委托计量检定机构检定报警仪，按规范重新设定报警值",
      "已完成报警仪检定，全部合格，报警值已按规范设定", kinds=("hazchem", "coking")),
    H("hot_work", "hazchem", "enterprise", "{ent}{ws}动火作业票证不全、监护人不在岗",
      "专项检查发现{addr}管廊动火作业未办理特殊动火作业票，未进行可燃气体分析，监护人离岗。",
      (2, 7, 1), ("enterprise", "LZQ-YJJ"), "立即停止动火作业，补办票证，落实作业前气体分析和专人监护",
      "已停止违规作业，对相关责任人进行处理，组织特殊作业专项培训", kinds=("hazchem", "coking", "mine")),
    H("tank_truck", "hazchem", "enterprise", "{ent}危化品运输车辆在厂外道路违规停放",
      "{addr}厂区外道路停放危化品罐车{k}辆，未进入专用停车场，周边有居民通行。",
      (6, 4, 0), ("enterprise", "LZQ-JTJ"), "罐车全部驶入专用停车场，建立车辆进出厂登记制度",
      "罐车已全部进入专用停车场，建立进出厂登记台账", kinds=("hazchem", "warehouse")),
    # 生产安全
    H("belt_guard", "production", "enterprise", "{ent}{ws}皮带机防护罩缺失",
      "{addr}皮带输送机尾轮防护罩缺失，急停拉绳损坏，作业人员在旁巡检，存在卷入风险。",
      (8, 2, 0), ("enterprise",), "恢复防护罩，修复急停拉绳，班前检查", "防护罩已恢复，急停拉绳修复并测试有效",
      spot="班组当班恢复防护罩，修复急停拉绳并测试有效", kinds=("coking", "mine", "materials")),
    H("confined", "production", "enterprise", "{ent}{ws}有限空间作业未落实“先通风、再检测、后作业”",
      "{addr}污水池清淤作业前未进行通风和气体检测，作业人员未佩戴防护用品，现场无监护人。",
      (0, 7, 3), ("enterprise", "LZQ-YJJ"), "停止作业，完善有限空间作业审批、检测和监护制度，配备检测和救援设备",
      "已完善有限空间作业管理制度，配备四合一气体检测仪和救援三脚架，组织专项培训",
      kinds=("hazchem", "coking", "warehouse")),
    H("coke_gas", "production", "enterprise", "{ent}{ws}焦炉煤气管道阀门泄漏",
      "{addr}焦炉煤气管道{k}号阀门法兰处泄漏，便携式检测仪报警，周边为巡检通道。",
      (0, 3, 7), ("enterprise",), "带压堵漏，停产检修时更换阀门，加密泄漏检测",
      "泄漏阀门已更换，检测无泄漏",
      cordon="划定警戒区，撤离无关人员，作业人员佩戴空气呼吸器带压堵漏", kinds=("coking",)),
    H("no_cert", "production", "enterprise", "{ent}特种作业人员未持证上岗",
      "检查发现{addr}{k}名电工、焊工未取得特种作业操作证即上岗作业。",
      (4, 6, 0), ("enterprise", "LZQ-YJJ"), "立即停止无证人员作业，组织培训取证", "相关人员已停止作业并参加培训取证",
      enforcer="LZQ-ZFJ", basis="《中华人民共和国安全生产法》第三十条、第九十七条",
      kinds=("hazchem", "coking", "mine", "warehouse", "materials")),
    H("forklift", "production", "enterprise", "{ent}{ws}叉车超期未检验",
      "{addr}{k}台叉车定期检验已过期，仍在装卸作业中使用。", (7, 3, 0), ("enterprise", "LZQ-SJJ"),
      "停用超期叉车，申报定期检验", "叉车已完成定期检验并取得合格报告", kinds=("warehouse", "materials")),
    H("scaffold", "production", "road", "{road}在建工地脚手架连墙件缺失",
      "{addr}在建项目外脚手架连墙件缺失{k}处，部分立杆悬空，安全网破损。",
      (3, 6, 1), ("LZQ-ZJJ",), "停止脚手架上作业，补设连墙件，更换安全网", "连墙件已补设，安全网已更换，经验收合格"),
    # 道路交通
    H("school_gate", "traffic", "road", "{road}学校门口减速带缺失、斑马线磨损",
      "{addr}小学门口减速带缺失，斑马线磨损不清，上下学时段车流人流混行。",
      (8, 2, 0), ("LZQ-JTJ", "LZQ-CGJ"), "设置减速带和警示标志，重新施划斑马线", "已设置减速带和注意儿童标志，重新施划斑马线"),
    H("curve", "traffic", "village", "{village}村道急弯处缺少警示标志和护栏",
      "{addr}临近{k}米深沟，未设置警示标志和波形护栏，近期发生过车辆剐蹭。",
      (6, 4, 0), ("LZQ-JTJ",), "设置急弯警示标志、凸面镜和波形护栏", "已安装波形护栏、急弯警示标志和凸面镜",
      site="{village}{dir}村道急弯处"),
    H("manhole", "traffic", "road", "{road}人行道井盖缺失",
      "{addr}人行道检查井井盖缺失，仅用树枝遮挡，夜间行人易坠落。",
      (8, 2, 0), ("LZQ-CGJ",), "设置临时围挡，安装防坠网和新井盖", "已安装新井盖和防坠网"),
    # 其他
    H("billboard", "other", "shop", "{shop}户外广告牌松动有坠落风险",
      "{addr}门头广告牌固定螺栓锈蚀松动，大风天气有坠落风险，下方为人行道。",
      (6, 4, 0), ("LZQ-CGJ", "street"), "拆除或加固广告牌，下方设置警戒区", "广告牌已拆除重装并经检查牢固",
      enforcer="LZQ-ZFJ", basis="《城市市容和环境卫生管理条例》第十一条、第三十六条"),
    H("well", "other", "village", "{village}废弃机井未封填",
      "{addr}一处废弃机井井口直径约{k}0厘米，未封填、无警示标志，周边有儿童玩耍。",
      (8, 2, 0), ("street",), "回填封堵废弃机井，设置警示标志", "废弃机井已回填封堵并设置标识",
      site="{village}{dir}田间"),
    H("river_rail", "other", "village", "{village}河道护岸护栏缺失",
      "{addr}护栏缺失约{k}0米，岸坡陡峭，汛期水位上涨时存在落水风险。",
      (6, 4, 0), ("street",), "补设护栏和警示标志，汛期加强巡查", "护栏已补设，设置防溺水警示牌",
      site="{village}段河道护岸"),
)

REJECT_REASONS = (
    "经现场核实，所述杂物已由物业清理，不构成安全隐患",
    "与前期已立案事项重复，已并入原案件办理",
    "不属于安全隐患范畴，已转12345热线按民生诉求办理",
    "现场核查未发现所反映的问题",
)
REWORK_REASONS = (
    "复核发现仍有部分问题未整改到位，请返工",
    "整改照片与现场情况不符，请重新整改",
    "现场复核发现整改不彻底，未建立长效管理台账，请返工",
)
PASS_OPINIONS = ("经现场复核，整改到位，同意销号", "复核合格，予以销号", "已现场查看，隐患已消除，同意销号")
EXTEND_REASONS = (
    "所需配件需厂家订制，到货周期较长，申请延期",
    "涉及多户居民协调，需召开业主会议表决，申请延期",
    "施工受连续降雨影响，申请延期",
)
