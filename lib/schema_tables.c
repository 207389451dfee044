/* The seven interfaces of the specification (V2.3, chapter 4) as data.
 *
 * This file is the one place a field's rules are written. Lengths are in
 * characters and are our own limits (the specification gives none): generous
 * enough for any real name, account or URL, small enough to refuse garbage. */
#include <stddef.h>

#include "baohan/schema.h"
#include "banned.h"

#define R BH_F_REQUIRED
#define E BH_F_ENCRYPTED
#define S BH_F_ON_SUCCESS
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Limits shared by many fields. */
#define ID_LEN 64      /* applyno, baohanno, appkey, account numbers */
#define NAME_LEN 200   /* organisations, banks */
#define PERSON_LEN 100 /* people's names */
#define PHONE_LEN 50
#define URL_LEN 2048
#define REASON_LEN 1000
#define MESSAGE_LEN 2000
#define FILE_BASE64_MAX ((size_t)48 * 1024 * 1024) /* decoded bytes of an inlined file */

#define TEXT(name, flags, len, label)                                                              \
    {                                                                                              \
        name, BH_T_TEXT, flags, len, 0, 0, NULL, label                                             \
    }
#define TYPED(name, type, flags, label)                                                            \
    {                                                                                              \
        name, type, flags, 0, 0, 0, NULL, label                                                    \
    }
#define URL(name, flags, label)                                                                    \
    {                                                                                              \
        name, BH_T_URL, flags, URL_LEN, 0, 0, NULL, label                                          \
    }

static const char *const zero_one[] = {"0", "1", NULL};

static const bh_fspec common_fields[] = {
    TEXT("appkey", R, ID_LEN, "应用标识"),
    TYPED("timestamp", BH_T_DATETIME, R, "请求时间"),
    TEXT("sign", R, 128, "报文签名"),
};

/* Every response starts with these two. */
#define CODE                                                                                       \
    {                                                                                              \
        "code", BH_T_ENUM, R, 0, 0, 0, zero_one, "响应代码"                                    \
    }
#define MESSAGE TEXT("message", R, MESSAGE_LEN, "响应信息")

static const bh_fspec plain_response[] = {CODE, MESSAGE};

/* 4.1 投保申请 */
static const bh_fspec apply_request[] = {
    TEXT("applyno", R, ID_LEN, "业务流水号"),
    TEXT("biddername", R, NAME_LEN, "投标企业名称"),
    TYPED("biddercode", BH_T_CREDITCODE, R, "统一社会信用代码"),
    TEXT("biaoduanno", R | E, 100, "标段编号"),
    TEXT("biaoduanname", R | E, 300, "标段名称"),
    TYPED("bzjamount", BH_T_MONEY, R, "保证金金额（元）"),
    TEXT("zbr", R | E, NAME_LEN, "招标人"),
    TYPED("zbrorgnum", BH_T_CREDITCODE, E, "招标人统一社会信用代码"),
    TEXT("approvalcode", E, NAME_LEN, "项目审批文号"),
    TEXT("projectcode", E, ID_LEN, "投资项目统一代码"),
    TEXT("projectno", R | E, 100, "项目编号"),
    TEXT("projectname", R | E, 300, "项目名称"),
    TYPED("reckonprice", BH_T_MONEY, R, "合同估算价（元）"),
    TEXT("tendererbankcode", R | E, ID_LEN, "招标人银行账号"),
    TEXT("tendereropenbank", R | E, NAME_LEN, "招标人银行开户行"),
    TEXT("tendererbankaccount", R | E, NAME_LEN, "招标人银行账户名称"),
    TEXT("tenderercontact", R | E, PERSON_LEN, "招标人联系人"),
    TEXT("tenderercontacttel", R | E, PHONE_LEN, "招标人联系人联系方式"),
    TYPED("citycode", BH_T_DIVISION, R, "项目所在地（行政区划代码）"),
    TEXT("projecttype", R, 50, "招标项目类型"),
    TYPED("bzjendtime", BH_T_DATETIME, R | E, "保证金截止时间"),
    TYPED("kaibiaotime", BH_T_DATETIME, R | E, "开标时间"),
    {"tbyxq", BH_T_INT, R, 0, 1, 3650, NULL, "投标有效期（天）"},
    URL("tendernoticeurl", E, "招标公告地址"),
    URL("tenderfileurl", R | E, "招标文件下载地址"),
};

static const bh_fspec apply_response[] = {CODE, MESSAGE, URL("Payurl", S, "支付地址")};

/* 4.2 投保申请结果通知 */
static const bh_fspec notice_request[] = {
    TEXT("applyno", R, ID_LEN, "业务流水号"),
    TEXT("baohanno", R, ID_LEN, "保函编号"),
    TEXT("instname", R, NAME_LEN, "出函机构"),
    TYPED("generatetime", BH_T_DATETIME, R, "出函时间"),
    {"applystatus", BH_T_ENUM, R, 0, 0, 0, zero_one, "是否审核通过"},
};

/* 4.3 开函数据获取 */
static const bh_fspec info_request[] = {
    TEXT("applyno", R, ID_LEN, "业务流水号"),
    TEXT("baohanno", R, ID_LEN, "保函编号"),
};

static const bh_fspec info_response[] = {CODE, MESSAGE, TYPED("data", BH_T_OBJECT, S, "数据")};

static const bh_fspec info_data[] = {
    URL("baohanurl", R, "保函文件下载地址"),
    {"baohanfile", BH_T_BASE64, R, FILE_BASE64_MAX, 0, 0, NULL, "保函文件的base64码"},
    TEXT("payername", R, NAME_LEN, "付保费银行账户户名"),
    TEXT("payeraccount", R, ID_LEN, "支付保费银行账户号码"),
    TYPED("rate", BH_T_RATE, R, "费率"),
    TYPED("cost", BH_T_MONEY, R, "费用"),
    TEXT("paytype", R, 50, "支付方式"),
    TEXT("tbysq", R, 100, "投标保函有效期"),
    TYPED("servicebegintime", BH_T_DATETIME, R, "保险起期"),
    TYPED("serviceendtime", BH_T_DATETIME, R, "保险止期"),
    TEXT("biddercontact", R, PERSON_LEN, "投标人联系人姓名"),
    TEXT("biddercontacttel", R, PHONE_LEN, "投标人联系方式"),
    TEXT("bidderaddress", R, 300, "投标人地址"),
    TEXT("bidderemail", R, PERSON_LEN, "投标人邮箱"),
    TEXT("bidderpersonname", R, PERSON_LEN, "投标人法定代表人姓名"),
    TEXT("bidderpersoncard", R, 32, "投标人法定代表人身份证件号码"),
    TEXT("bidderpersontel", R, PHONE_LEN, "投标人法定代表人联系方式"),
    URL("orderurl", R, "电子申请单文件下载地址"),
    TYPED("ordermd5", BH_T_MD5, R, "电子申请单文件MD5码"),
    URL("qualficationfileurl", R, "企业资质文件下载地址"),
    TYPED("qualficationfilemd5", BH_T_MD5, R, "企业资质文件大写MD5码"),
    URL("businesslicenseurl", R, "企业营业执照下载地址"),
    TYPED("businesslicensemd5", BH_T_MD5, R, "企业营业执照大写MD5码"),
    TYPED("guaranteemd5", BH_T_MD5, R, "电子保函文件大写MD5"),
    URL("guaranteexmlurl", R, "电子保函结构化数据XML文件下载地址"),
    TYPED("guaranteexmlmd5", BH_T_MD5, R, "电子保函结构化数据XML文件大写MD5"),
    URL("payfileurl", R, "到账凭证下载地址"),
};

/* 4.4 放弃申请通知 */
static const bh_fspec giveup_request[] = {
    TEXT("applyno", R, ID_LEN, "业务流水号"),
};

/* 4.5 退保申请 */
static const bh_fspec quit_request[] = {
    TEXT("applyno", R, ID_LEN, "业务流水号"),
    TEXT("baohanno", R, ID_LEN, "保函编号"),
    TEXT("reason", R, REASON_LEN, "退保原因"),
};

/* 4.6 退保通知 */
static const bh_fspec quitnotice_request[] = {
    TEXT("applyno", R, ID_LEN, "业务流水号"),
    TEXT("baohanno", R, ID_LEN, "保函编号"),
};

/* 4.7 理赔通知 */
static const bh_fspec claims_request[] = {
    TEXT("applyno", R, ID_LEN, "业务流水号"),
    TEXT("baohanno", R, ID_LEN, "保函编号"),
    TEXT("payeraccount", 0, ID_LEN, "收款账号"),
    TYPED("payeramount", BH_T_MONEY, 0, "赔付金额"),
    {"filelist", BH_T_JSONARRAY, 0, 65536, 0, 0, NULL, "理赔文件列表"},
    TEXT("applyusername", R, PERSON_LEN, "理赔联系人"),
    TEXT("applyuserphone", R, PHONE_LEN, "理赔联系人电话"),
    TEXT("Reason", 0, REASON_LEN, "理赔原因"),
};

#define IFACE(name, side, title, req, resp)                                                        \
    {                                                                                              \
        name, side, title, req, COUNT(req), resp, COUNT(resp), NULL, 0                             \
    }

static const bh_iface interfaces[] = {
    IFACE("baohanapply", BH_SIDE_INSTITUTION, "投保申请", apply_request, apply_response),
    IFACE("baohannotice", BH_SIDE_PLATFORM, "投保申请结果通知", notice_request, plain_response),
    {"getbaohaninfo", BH_SIDE_INSTITUTION, "开函数据获取", info_request, COUNT(info_request),
     info_response, COUNT(info_response), info_data, COUNT(info_data)},
    IFACE("giveupnotice", BH_SIDE_INSTITUTION, "放弃申请通知", giveup_request, plain_response),
    IFACE("quitapply", BH_SIDE_INSTITUTION, "退保申请", quit_request, plain_response),
    IFACE("quitnotice", BH_SIDE_PLATFORM, "退保通知", quitnotice_request, plain_response),
    IFACE("claimsnotice", BH_SIDE_INSTITUTION, "理赔通知", claims_request, plain_response),
};

const bh_fspec *bh_common_fields(size_t *count)
{
    *count = COUNT(common_fields);
    return common_fields;
}

size_t bh_iface_count(void)
{
    return COUNT(interfaces);
}

const bh_iface *bh_iface_at(size_t i)
{
    return i < COUNT(interfaces) ? &interfaces[i] : NULL;
}
