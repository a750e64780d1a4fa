#include "finglish.hpp"

#include <array>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace pasokh::bot::detail {
namespace {

// How much a spelling says "this is Persian": 2 for words English does not
// have; 1 for greetings English borrows ("salam", "merci") and short words a
// few English texts have too ("ba", "az", "nist"); 0 for English homographs
// ("to", "in", "man", "are", "model", "code"), which are only spelled back.
struct finglish_word {
  std::string_view persian;
  std::string_view spellings;  // '|' separated, lower case
  int weight;
};

// Keep entries general: frequent function words, and after-sales words
// customers use, not words of one test line. Spellings: kh/x, gh/q, oo/u/o,
// e/a and ei/ey/ay are the usual variations.
constexpr std::array words{
    // Greetings, thanks, politeness
    finglish_word{"سلام", "salam|salaam|slm", 1},
    finglish_word{"مرسی", "merci", 1},
    finglish_word{"مرسی", "mersi|mrsi|mrc|mersy", 2},
    finglish_word{"ممنون", "mamnoon|mamnun|mamnon|mamnoonam|mamnunam|mmnon", 2},
    finglish_word{"متشکرم", "moteshakeram|mochakeram|motshakeram", 2},
    finglish_word{"لطفا", "lotfan|lotfn|lotfa|ltfn", 2},
    finglish_word{"درود", "dorood|dorud", 2},
    finglish_word{"خسته", "khaste|khasteh", 2},
    finglish_word{"نباشید", "nabashid|nabashin|nabashi", 2},
    finglish_word{"بله", "bale|baleh", 2},
    finglish_word{"آره", "areh|aare|are", 0},
    finglish_word{"نه", "na|nah", 1},
    finglish_word{"خب", "khob|khub|khoob|xob", 2},
    // Question words
    finglish_word{"چرا", "chera|chra", 2},
    finglish_word{"چطور", "chetor|chetori|chetour|chtor|chetoor", 2},
    finglish_word{"چجوری", "chejoori|chejuri|chejori|chegoone", 2},
    finglish_word{"چند", "chand|chnd", 2},
    finglish_word{"چقدر", "cheghadr|cheqadr|chghadr|cheghad|chegadr", 2},
    finglish_word{"کجا", "koja|kuja", 2},
    finglish_word{"کجاست", "kojast|kojas|kojaast", 2},
    finglish_word{"کی", "kei|kay|ki", 1},
    finglish_word{"کی", "key", 0},
    finglish_word{"چی", "chi", 1},
    finglish_word{"چیه", "chie|chiye", 2},
    finglish_word{"چه", "che", 2},
    finglish_word{"آیا", "aya|aaya", 1},
    // Function words
    finglish_word{"که", "ke|keh", 2},
    finglish_word{"رو", "ro|ra|roo", 1},
    finglish_word{"با", "ba", 1},
    finglish_word{"از", "az", 1},
    finglish_word{"تا", "ta", 1},
    finglish_word{"به", "be|beh", 0},
    finglish_word{"در", "dar", 1},
    finglish_word{"و", "va|o", 0},
    finglish_word{"برای", "baraye|barye|bara|baray|vasse|vaseye", 2},
    finglish_word{"برای", "vase", 1},
    finglish_word{"یه", "ye|yeki", 1},
    finglish_word{"یک", "yek", 2},
    finglish_word{"ولی", "vali|valy", 2},
    finglish_word{"اگه", "age", 0},
    finglish_word{"اگر", "agar|ageh|ege", 2},
    finglish_word{"هنوز", "hanooz|hanuz|hanoz", 2},
    finglish_word{"الان", "alan|alaan", 1},
    finglish_word{"حالا", "hala|halaa", 1},
    finglish_word{"باید", "bayad|baiad|bayd", 2},
    finglish_word{"خیلی", "kheili|khaili|kheyli|khyli|xeili|kheily", 2},
    finglish_word{"دیگه", "dige|digeh", 2},
    finglish_word{"دیگری", "digari|digeyi", 2},
    finglish_word{"هم", "ham", 0},
    finglish_word{"من", "man", 0},
    finglish_word{"تو", "to|too|tu", 0},
    finglish_word{"این", "in", 0},
    finglish_word{"اون", "oon|un", 1},
    finglish_word{"شما", "shoma|shomaa", 2},
    finglish_word{"ما", "ma", 0},
    finglish_word{"بدون", "bedoone|bedoon|bedune|bedun", 2},
    finglish_word{"قبل", "ghabl|qabl", 2},
    finglish_word{"بعد", "baad|bad", 0},
    finglish_word{"موقع", "moghe|moqe", 2},
    finglish_word{"بجای", "bejaye|bejaie|bejay", 2},
    finglish_word{"خودتون", "khodetoon|khodetun|khodeton", 2},
    finglish_word{"چیزی", "chizi", 2},
    // Verbs, colloquial forms first
    finglish_word{"میخوام", "mikham|mikhaam|mikhm|mixam|mikhastam|mikhasam|mikhaim|mikhaym", 2},
    finglish_word{"نمیخوام", "nemikham|nemikhaam|nemixam", 2},
    finglish_word{"میشه", "mishe|misheh|mishad|mishod", 2},
    finglish_word{"نمیشه", "nemishe|nemisheh|nemishad|nmishe", 2},
    finglish_word{"میتونم", "mitoonam|mitunam|mitonam", 2},
    finglish_word{"میتونید", "mitoonid|mitunid|mitonid|mitoonin|mitunin", 2},
    finglish_word{"کنم", "konam", 2},
    finglish_word{"کنید", "konid|konin", 2},
    finglish_word{"کنه", "kone|koneh", 2},
    finglish_word{"کنن", "konan|konn", 2},
    finglish_word{"میکنم", "mikonam", 2},
    finglish_word{"میکنید", "mikonid|mikonin", 2},
    finglish_word{"میکنه", "mikone|mikoneh|mikonad", 2},
    finglish_word{"نمیکنه", "nemikone|nemikoneh|nemikonad|nmikone", 2},
    finglish_word{"کردم", "kardam", 2},
    finglish_word{"کرد", "kard", 2},
    finglish_word{"کردید", "kardid|kardin", 2},
    finglish_word{"شده", "shode|shodeh|shde", 2},
    finglish_word{"شد", "shod", 2},
    finglish_word{"شدم", "shodam", 2},
    finglish_word{"نشده", "nashode|nashodeh", 2},
    finglish_word{"نشد", "nashod", 2},
    finglish_word{"رسید", "resid", 2},
    finglish_word{"رسیده", "resideh", 2},
    finglish_word{"رسیده", "reside", 1},
    finglish_word{"نرسیده", "nareside|naresideh|narside", 2},
    finglish_word{"میرسه", "mirese|mireseh|miresad", 2},
    finglish_word{"نمیرسه", "nemirese|nemireseh", 2},
    finglish_word{"دارم", "daram", 2},
    finglish_word{"داره", "dareh", 2},
    finglish_word{"داره", "dare", 1},
    finglish_word{"دارید", "darid|darin", 2},
    finglish_word{"ندارم", "nadaram", 2},
    finglish_word{"نداره", "nadare|nadareh", 2},
    finglish_word{"ندارید", "nadarid|nadarin", 2},
    finglish_word{"هست", "hast", 2},
    finglish_word{"هستید", "hastid|hastin", 2},
    finglish_word{"هستم", "hastam", 2},
    finglish_word{"نیست", "nist", 1},
    finglish_word{"نیستم", "nistam", 2},
    finglish_word{"بود", "bood|bud", 2},
    finglish_word{"دادم", "dadam", 2},
    finglish_word{"بدم", "bedam", 2},
    finglish_word{"بدید", "bedid|bedin", 2},
    finglish_word{"میدید", "midid|midin", 2},
    finglish_word{"میده", "mide|mideh", 2},
    finglish_word{"بفرستید", "befrestid|befrestin|beferestid", 2},
    finglish_word{"میفرستید", "mifrestid|mifrestin|miferestid", 2},
    finglish_word{"فرستادم", "ferestadam|frestadam", 2},
    finglish_word{"خریدم", "kharidam|xaridam", 2},
    finglish_word{"گرفتم", "gereftam", 2},
    finglish_word{"بگیرم", "begiram", 2},
    finglish_word{"میکشه", "mikeshe|mikesheh", 2},
    finglish_word{"میاد", "miad|myad", 2},
    finglish_word{"بگو", "begoo|begu", 2},
    finglish_word{"افتاد", "oftad|oftade", 2},
    finglish_word{"زدم", "zadam", 2},
    finglish_word{"بلد", "balad", 2},
    finglish_word{"است", "ast|hastesh", 2},
    finglish_word{"میپره", "mipare|mipareh|mipore", 2},
    finglish_word{"بپره", "bepare|bepareh", 2},
    finglish_word{"تهیه", "tahie|tahiye|tahye", 2},
    finglish_word{"جابجا", "jabeja|jabja", 2},
    finglish_word{"تغییر", "taghir|taghyir|taqir", 2},
    // After-sales: warranty and repair
    finglish_word{"گارانتی", "garanti|gaaranti|garanty|garantee|garantie", 2},
    finglish_word{"ضمانت", "zemanat|zamanat", 2},
    finglish_word{"تعمیر", "tamir|taamir|tamiir", 2},
    finglish_word{"تعمیرگاه", "tamirgah|tamirgaah", 2},
    finglish_word{"خراب", "kharab|kharaab|xarab", 2},
    finglish_word{"خرابی", "kharabi|xarabi", 2},
    finglish_word{"ایراد", "irad|eyrad|iraad", 2},
    finglish_word{"مشکل", "moshkel|mushkel|mshkl", 2},
    finglish_word{"روشن", "roshan", 1},
    finglish_word{"خاموش", "khamoosh|khamush", 2},
    finglish_word{"شکسته", "shekaste|shekasteh", 2},
    finglish_word{"آب", "ab|aab", 0},
    finglish_word{"باطل", "batel", 2},
    finglish_word{"اعتبار", "etebar|eatebar", 2},
    finglish_word{"درخواست", "darkhast|darxast", 2},
    finglish_word{"ثبت", "sabt", 2},
    finglish_word{"هزینه", "hazine|hazineh|hazina", 2},
    finglish_word{"قیمت", "gheymat|ghimat|qeymat|qimat", 2},
    finglish_word{"گرون", "geroon|gerun|geran", 2},
    finglish_word{"بررسی", "barresi|baresi", 2},
    finglish_word{"قطعه", "ghate|ghatee|qate|ghatae", 2},
    finglish_word{"قطعات", "ghataat|ghatat", 2},
    finglish_word{"شارژر", "sharjer|sharzher", 2},
    finglish_word{"نصب", "nasb", 2},
    finglish_word{"نصاب", "nasab", 2},
    finglish_word{"آموزش", "amoozesh|amuzesh", 2},
    finglish_word{"نمایندگی", "namayandegi|namayande", 2},
    finglish_word{"پشتیبانی", "poshtibani|poshtibany|poshtiban", 2},
    finglish_word{"کارشناس", "karshenas|karshnas", 2},
    finglish_word{"اپراتور", "operator|operatoor|oprator", 0},
    finglish_word{"صحبت", "sohbat", 2},
    finglish_word{"تماس", "tamas", 2},
    finglish_word{"وضعیت", "vaziat|vazyat|vaziyat", 2},
    finglish_word{"مرکز", "markaz", 2},
    finglish_word{"خدمات", "khadamat|xadamat", 2},
    finglish_word{"مجاز", "mojaz", 2},
    finglish_word{"نزدیک", "nazdik", 2},
    finglish_word{"راهنما", "rahnama|rahnema", 2},
    finglish_word{"رایگان", "rayegan|raigan", 2},
    finglish_word{"نرمافزار", "narmafzar", 2},
    finglish_word{"صفحه", "safhe|safheh", 2},
    finglish_word{"باتری", "batri|baatri", 2},
    finglish_word{"شارژ", "sharj|sharzh", 2},
    finglish_word{"کنترل", "kontrol", 1},
    finglish_word{"جعبه", "jabe|jabeh|jaabe", 2},
    finglish_word{"ترک", "tarak", 1},
    finglish_word{"خورده", "khorde|khordeh", 2},
    finglish_word{"نظر", "nazar", 2},
    finglish_word{"بازخورد", "bazkhord", 2},
    finglish_word{"معرفی", "moarefi|moaerfi|moarrefi", 2},
    finglish_word{"دوست", "doost|doust", 2},
    finglish_word{"دوست", "dust", 0},
    finglish_word{"ویدیو", "video|vido", 0},
    finglish_word{"فیلم", "film", 0},
    finglish_word{"ایمیل", "email|imeil|imel", 0},
    finglish_word{"شماره", "shomare|shomareh", 2},
    finglish_word{"آپدیت", "update|apdeit|apdate", 0},
    // After-sales: returns, orders, delivery, payment
    finglish_word{"بازگشت", "bazgasht|baazgasht", 2},
    finglish_word{"مرجوع", "marjoo|marju|marjo", 2},
    finglish_word{"مرجوعی", "marjooi|marjui|marjoee|marjuee|marjooee|marjoi", 2},
    finglish_word{"برگردوند", "bargardoond|bargardund|bargardond", 2},
    finglish_word{"برگردونم", "bargardoonam|bargardunam|bargardonam", 2},
    finglish_word{"برگردوندید", "bargardoondid|bargardundid|bargardoonid", 2},
    finglish_word{"برنگردوندید", "barnagardoondid|barnagardundid", 2},
    finglish_word{"برگرده", "bargarde|bargardeh", 2},
    finglish_word{"برمیگرده", "barmigarde|barmigardeh", 2},
    finglish_word{"پس", "pas", 0},
    finglish_word{"پشیمون", "pashimoon|pashimun|pashiman", 2},
    finglish_word{"تعویض", "taviz|taaviz", 2},
    finglish_word{"عوض", "avaz|avaaz", 2},
    finglish_word{"مدل", "model", 0},
    finglish_word{"سایز", "size|saiz|sayz", 0},
    finglish_word{"رنگ", "rang", 1},
    finglish_word{"بزرگتر", "bozorgtar", 2},
    finglish_word{"ارسال", "ersal|ersaal", 2},
    finglish_word{"سفارش", "sefaresh|sefarsh|sfaresh", 2},
    finglish_word{"کالا", "kala|kalaa", 2},
    finglish_word{"خرید", "kharid|xarid", 2},
    finglish_word{"بسته", "baste|basteh", 2},
    finglish_word{"مرسوله", "marsoole|marsule|marsooleh", 2},
    finglish_word{"پستی", "posti", 2},
    finglish_word{"پیگیری", "peygiri|peigiri|paygiri|peygiry|pegiri", 2},
    finglish_word{"رهگیری", "rahgiri", 2},
    finglish_word{"کد", "kod|code", 0},
    finglish_word{"تحویل", "tahvil|tahwil", 2},
    finglish_word{"آدرس", "adres", 2},
    finglish_word{"آدرس", "adress|address", 0},
    finglish_word{"لغو", "laghv|laqv", 2},
    finglish_word{"کنسل", "kansel|cansel", 2},
    finglish_word{"کنسل", "cancel", 0},
    finglish_word{"پول", "pool|pul", 0},
    finglish_word{"پولم", "poolam|pulam", 2},
    finglish_word{"پرداخت", "pardakht|pardaxt", 2},
    finglish_word{"واریز", "variz", 2},
    finglish_word{"استرداد", "esterdad|estrdad", 2},
    finglish_word{"کارت", "kart", 1},
    finglish_word{"قسط", "ghest|qest", 2},
    finglish_word{"اقساطی", "aghsati|aqsati|ghesti", 2},
    finglish_word{"فاکتور", "factor|faktor", 0},
    finglish_word{"صورتحساب", "soorathesab|surathesab", 2},
    finglish_word{"تخفیف", "takhfif|takhfeef", 2},
    finglish_word{"لازم", "lazem", 2},
    finglish_word{"جواب", "javab", 2},
    finglish_word{"خبر", "khabar|xabar", 2},
    finglish_word{"جدید", "jadid", 2},
    finglish_word{"اصل", "asl", 2},
    finglish_word{"گم", "gom", 1},
    finglish_word{"اشتباه", "eshtebah|eshtebaah", 2},
    finglish_word{"ممکنه", "momkene|momkeneh", 2},
    // After-sales: products and time
    finglish_word{"دستگاه", "dastgah|dastgaah|dasgah", 2},
    finglish_word{"یخچال", "yakhchal|yakhchaal|yaxchal", 2},
    finglish_word{"گوشی", "gooshi|gushi|goshi", 2},
    finglish_word{"تلویزیون", "televizion|televiziun|televizyon", 2},
    finglish_word{"تلویزیون", "tv", 0},
    finglish_word{"لباسشویی", "lebasshooyi|lebasshoyi|lebasshooei|lebasshuyi", 2},
    finglish_word{"ماشین", "mashin|maashin", 1},
    finglish_word{"کولر", "kooler|koler", 2},
    finglish_word{"کولر", "cooler", 0},
    finglish_word{"لپتاپ", "laptop|lap", 0},
    finglish_word{"ماه", "mah|maah", 1},
    finglish_word{"روز", "rooz|ruz|roz", 2},
    finglish_word{"هفته", "hafte|hafteh", 2},
    finglish_word{"سال", "sal|saal", 1},
    finglish_word{"ساعت", "saat|saaat", 1},
    finglish_word{"کار", "kar|kaar", 2},
    finglish_word{"کاری", "kari", 1},
    finglish_word{"جمعه", "jome|jomeh|jomee", 2},
    finglish_word{"ماهانه", "mahane|mahaneh|mahiane", 2},
    finglish_word{"نقد", "naghd|naqd", 2},
    finglish_word{"شهر", "shahr", 2},
    finglish_word{"شهرستان", "shahrestan|shahrstan", 2},
    finglish_word{"زمان", "zaman", 1},
    finglish_word{"وقت", "vaght|vaqt", 2},
    finglish_word{"امروز", "emrooz|emruz", 2},
    finglish_word{"فردا", "farda", 2},
    finglish_word{"دست", "dast", 2},
    finglish_word{"محل", "mahal", 2},
    finglish_word{"تعطیل", "tatil", 2},
};

// Colloquial endings, each before its own tail (-amo before -mo, -esh before
// -sh): possessives (م ش ت), the object marker glued as ـو, plural ها,
// adjective ی, comparative تر. The ezafe and the colloquial "is" (-e, -ye:
// "mahe", "adrese sefaresh") are dropped.
struct suffix {
  std::string_view latin, persian;
};
constexpr std::array suffixes{
    suffix{"taresh", "ترش"}, suffix{"haye", "های"}, suffix{"hash", "هاش"}, suffix{"esho", "شو"},
    suffix{"asho", "شو"},    suffix{"amo", "مو"},    suffix{"emo", "مو"},   suffix{"esh", "ش"},
    suffix{"ash", "ش"},      suffix{"tar", "تر"},    suffix{"ha", "ها"},    suffix{"am", "م"},
    suffix{"em", "م"},       suffix{"et", "ت"},      suffix{"at", "ت"},     suffix{"mo", "مو"},
    suffix{"sh", "ش"},       suffix{"ye", ""},       suffix{"eh", ""},      suffix{"m", "م"},
    suffix{"i", "ی"},        suffix{"e", ""},        suffix{"a", "ا"},      suffix{"o", "و"},
};
constexpr std::size_t min_stem_letters = 3;

// Function words only an English sentence has. Words Finglish spells the same
// ("to", "in", "man", "do", "are", "be") are in neither list.
constexpr std::string_view english_words =
    "the|a|an|is|am|was|were|been|my|your|our|his|her|their|it|its|i|you|we|they|me|us|of|for|on|at|"
    "with|from|by|about|where|what|when|how|why|which|who|can|could|will|would|should|does|did|not|dont|"
    "no|yes|and|or|but|this|that|these|those|there|here|have|has|had|please|hi|hello|hey|thanks|thank|"
    "get|got|want|need|still|yet|just|if|so|than|then|any|some|all|out|up|back|new|one|order|after|"
    "before|didnt|cant|wont|isnt|im|ive|sorry|very|much|many|long";

struct tables {
  std::unordered_map<std::string_view, const finglish_word*> finglish;
  std::unordered_set<std::string_view> english;
  tables() {
    const auto each = [](std::string_view list, auto f) {
      while (!list.empty()) {
        const auto bar = list.find('|');
        f(list.substr(0, bar));
        list = bar == std::string_view::npos ? std::string_view{} : list.substr(bar + 1);
      }
    };
    for (const auto& w : words) each(w.spellings, [&](std::string_view s) { finglish.try_emplace(s, &w); });
    each(english_words, [&](std::string_view s) { english.insert(s); });
  }
};

const tables& table() {
  static const tables t;
  return t;
}

bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// A Latin word, lower case, apostrophes dropped ("ta'mir" → "tamir"); the
// caller's buffer, so reading a text allocates nothing once it has grown.
std::size_t next_latin_word(std::string_view text, std::size_t pos, std::string& word) {
  word.clear();
  while (pos < text.size() && (is_ascii_letter(text[pos]) || (text[pos] == '\'' && !word.empty()))) {
    if (text[pos] != '\'') word.push_back(static_cast<char>(text[pos] | 0x20));
    ++pos;
  }
  return pos;
}

struct match {
  const finglish_word* word = nullptr;
  std::string_view persian_suffix;
};

// The word itself, else a stem with one colloquial ending ("garantish",
// "sefareshamo"). As evidence only words that say something count, and only
// distinctly Persian stems take endings: "sale" is no "sal" + e.
match look_up(std::string_view w, bool as_evidence) {
  const auto& t = table().finglish;
  if (auto it = t.find(w); it != t.end()) {
    if (!as_evidence || it->second->weight > 0) return {it->second, {}};
    return {};
  }
  // Short stems are function words ("roo", "keh"), which take no endings:
  // "room" is no "roo" + m.
  const std::size_t min_stem = as_evidence ? min_stem_letters + 1 : min_stem_letters;
  for (const auto& s : suffixes) {
    if (w.size() < s.latin.size() + min_stem || !w.ends_with(s.latin)) continue;
    auto it = t.find(w.substr(0, w.size() - s.latin.size()));
    if (it != t.end() && (!as_evidence || it->second->weight == 2)) return {it->second, s.persian};
  }
  return {};
}

}  // namespace

latin_evidence weigh_latin_words(std::string_view text) {
  thread_local std::string word;
  latin_evidence e;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (!is_ascii_letter(text[pos])) { ++pos; continue; }
    pos = next_latin_word(text, pos, word);
    if (table().english.contains(word)) { e.english += 1; continue; }
    if (const match m = look_up(word, true); m.word) e.finglish += m.word->weight;
  }
  return e;
}

void finglish_to_persian(std::string_view text, std::string& out) {
  thread_local std::string word;
  out.clear();
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (!is_ascii_letter(text[pos])) { out.push_back(text[pos++]); continue; }
    const std::size_t begin = pos;
    pos = next_latin_word(text, pos, word);
    const match m = look_up(word, false);
    if (!m.word) { out.append(text.substr(begin, pos - begin)); continue; }
    out.append(m.word->persian);
    if (m.persian_suffix.empty()) continue;
    // After a silent ه an ending takes its own alef: بسته + م → بسته‌ام.
    const bool silent_heh = m.word->persian.ends_with("\u0647") && m.persian_suffix.size() == 2;
    if (silent_heh) out.append("\u200C\u0627");
    out.append(m.persian_suffix);
  }
}

}  // namespace pasokh::bot::detail
