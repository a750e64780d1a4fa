#include "intents.hpp"

#include <string>
#include <unordered_set>
#include <vector>

#include "lexicon.hpp"
#include "stem.hpp"
#include "word_set.hpp"

namespace pasokh::bot::detail {
namespace {

// Asking for a person. "Strong" words name a human unambiguously; "medium"
// ones name staff but also appear in ordinary questions ("when do your agents
// start?"), so they need a request or contact verb; "weak" ones ("someone")
// need a contact verb ("can someone come and install it?" is not a handoff).
const word_set strong_person{
    "human|humans|operator|representative|rep|real person|live agent|live person|real human|"
    "live chat|real agent",
    "اپراتور|اوپراتور|انسان|آدم واقعی|شخص واقعی|نیروی انسانی|پشتیبان انسانی|آدمیزاد|"
    "اپراتورتون|کارشناس انسانی",
    "إنسان|انسانا|إنسانا|بشري|شخص حقيقي|موظف حقيقي|إنسان حقيقي|ممثل|ممثل خدمة|بني آدم"};
const word_set medium_person{
    "agent|agents|staff|employee|consultant|specialist|supervisor|manager|customer service|"
    "support|customer support|support team|support agent|advisor|somebody real",
    "کارشناس|کارشناسان|پشتیبان|پشتیبانی|همکار|همکارتون|همکاران|کارمند|مسئول|مشاور|"
    "مدیر|خدمات مشتریان",
    "موظف|موظفين|الموظفين|خدمة العملاء|خدمه العملاء|الدعم|مسؤول|مدير|مستشار|أخصائي|الموظف"};
const word_set weak_person{
    "person|someone|somebody|people|anyone|anybody|team|guy",
    "آدم|شخص|کسی|یکی|نفر|یه نفر|فرد|یه آدم",
    "شخص|أحد|احد|حدا|أحدهم|شخصا|واحد"};
const word_set contact_verb{
    "talk|speak|chat|connect|transfer|call|contact|reach|escalate|put me through|hand me|"
    "talking|speaking|redirect",
    "صحبت|حرف|گفتگو|وصل|وصلم|ارتباط|تماس|انتقال|گپ|متصل|وصل کنید|صحبت کنم|حرف بزنم|"
    "کار دارم|کار داشتم|"  // "با کارشناس کار دارم": I need a word with an agent
    "جواب بده|جواب بدید|جواب بدین",  // "یک نفر جواب بده": someone answer me (not "جواب میده", answers)
    "التحدث|أتحدث|اتحدث|تحدث|أتكلم|اتكلم|أكلم|اكلم|كلم|تكلم|أحكي|احكي|أتواصل|التواصل|تواصل|"
    "حولني|حولوني|تحويل|حولني على|وصلني|اتصل|الاتصال|أكلمه|محادثة"};
const word_set request_verb{
    "want|need|give|get|bring|let|please|pls|plz|require|prefer|wanna|id like",
    "میخوام|میخواهم|خواستم|بده|بدید|بدین|بیاد|بیاید|بیارید|لازم|لطفا|میخوایم|بفرستید",
    "أريد|اريد|أبي|ابي|ابغى|أبغى|بدي|أحتاج|احتاج|أعطني|اعطني|أرغب|ارغب|ابغي|لو سمحت|"
    "من فضلك|فضلك|نريد"};
// Frustration with the bot itself, which together with any person word means
// "let me out of here".
const word_set bot_word{"bot|robot|chatbot|machine|automated", "ربات|روبات|بات|چت‌بات",
                        "روبوت|الروبوت|بوت|البوت|آلي|الآلي"};

const word_set greeting_words{
    "hi|hello|hey|heya|hiya|greetings|good morning|good afternoon|good evening|morning|evening|"
    "yo|salam|salaam|dear|there|team|all|everyone|support",
    "سلام|درود|وقت بخیر|روز بخیر|صبح بخیر|عصر بخیر|شب بخیر|سلامتی|وقتتون بخیر|بخیر|وقت|خسته نباشید|"
    "خسته|نباشید|علیک|سلامت|عزیز|جان",
    "مرحبا|مرحبتين|أهلا|اهلا|هلا|السلام|عليكم|سلام|صباح الخير|مساء الخير|صباح|مساء|الخير|"
    "النور|هاي|تحية|يعطيكم العافية|العافية"};
const word_set thanks_words{
    "thanks|thank|thx|ty|tnx|cheers|appreciated|appreciate|great|perfect|awesome|cool|ok|okay|"
    "got it|nice|good|very|much|lot|a lot|helpful|bye|goodbye",
    "ممنون|مرسی|متشکرم|متشکر|سپاس|سپاسگزارم|تشکر|دمت گرم|دمتون گرم|عالی|باشه|اوکی|خیلی|ممنونم|"
    "لطف|کردید|مچکرم|قربانت|قربونت|خداحافظ|فعلا|حله|اوکیه|خوب",
    "شكرا|شكر|مشكور|مشكورين|يعطيك العافية|ممتاز|تمام|جزاك الله|جزاكم|خيرا|حلو|جزيلا|الشكر|"
    "أشكرك|اشكرك|مع السلامة|ماشي|طيب|ok"};
const word_set yes_words{
    "yes|yeah|yep|yup|ya|sure|indeed|correct|right|solved|helped|works|worked|resolved|"
    "that helps|it helped|did help",
    "بله|آره|اره|آری|بلی|حتما|کمک کرد|حل شد|جواب داد|درسته|دقیقا|آها",
    "نعم|أيوه|ايوه|ايوا|اي|ايه|أجل|بلى|ساعدني|نفعني|صح|صحيح|بالضبط|اتحلت|انحلت"};
const word_set no_words{
    "no|nope|nah|not|useless|wrong|unhelpful|didnt|doesnt|didn|help|helpful|really|answer|"
    "question|my|that|this|it|isnt|at all|what i asked|asked",
    "نه|خیر|نخیر|نچ|کمک|نکرد|فایده|نداشت|بدرد|نخورد|دردم|جوابم|نگرفتم|این|نبود|اشتباه|سوالم|"
    "نیست|جواب|ندادید|اصلا",
    "لا|كلا|لم|يساعد|يساعدني|ساعد|ساعدني|يفد|يفدني|مفيد|غير|نفعني|ليس|هذا|مو|السؤال|سؤالي|الجواب|خطأ|"
    "أبدا|ابدا|ما"};
// At least one of these must be present for a "no" (the words above also
// fill out "that did not help at all").
const word_set no_core{
    "no|nope|nah|useless|unhelpful|wrong|didnt|doesnt|not",
    "نه|خیر|نخیر|نچ|نکرد|نداشت|نخورد|اشتباه|نبود|نگرفتم",
    "لا|كلا|لم|مو|غير|خطأ|ليس"};

// Clear anger or frustration with us, not with a device: "ridiculous",
// "scammers", not "broken" or «خراب». Matched as written, not by stem: the
// stems of these cross into everyday words (بدترین → بدتر "worse", as in "it
// got worse"). Only phrases for words that are innocent alone or in the other
// language: Arabic نصب "fraud" is Persian "installation", سيئة "bad" also
// describes a battery.
const word_set anger_words{
    {"ridiculous|scam|scams|scammer|scammers|scammed|fraud|unacceptable|"
     "disgrace|disgraceful|pathetic|outrageous|shameful|furious|angry|frustrated|frustrating|"
     "infuriating|incompetent|ripoff|wtf|fed up|sick of|rip off|had enough",
     "افتضاحید|مسخره|مسخرس|مسخرست|مسخرهست|مسخره‌اید|مسخره‌ایه|کلاهبرداری|کلاهبردار|کلاهبردارید|"
     "کلاهبردارها|کلاهبردارا|اعصاب|اعصابم|اعصابمو|اعصابمون|اعصابم رو|شرم‌آور|شرم آور|بیشعور|"
     "بیشعورها|عصبانی|عصبانیم|عصبانی‌ام|آشغالید|خسته شدم|خسته شدیم|ذله شدم|کلافه شدم|کلافم کردید|غیرقابل قبول|"
     "حالم بهم",
     "فاشلين|فاشلون|مهزلة|مهزله|احتيال|نصابين|نصابون|حرامية|حراميه|زفت|زهقت|طفشت|"
     "سخيف|سخيفة|غاضب|غاضبة|مستاء|مستاءة|منزعج|منزعجة|خدمة سيئة|خدمه سيئه|"
     "غير مقبول|هذا نصب|نصب واحتيال|تعبت منكم|حسبي الله"},
    word_set::match::surface};
// How bad something is: anger when said of us or of nothing named ("worst
// service ever", «افتضاحه»), a problem report when said of what a device
// does ("a terrible noise", «صدای افتضاح», «صوت سيء جدا»): see
// describes_symptom.
const word_set severity_words{
    {"terrible|horrible|awful|worst|disgusting",
     "افتضاح|افتضاحه|افتضاحیه|بدترین|فاجعه|فاجعست|وحشتناک|وحشتناکه|وحشتناکیه",
     "أسوأ|اسوأ|الأسوأ|الاسوأ|اسوء|مقرف|سيء جدا|سيئ جدا|سيئة جدا|سيئه جدا|فظيع|فظيعة|فظيعه|مريع|مريعة|"
     "كارثي|كارثية"},
    word_set::match::surface};
// What a faulty device does or shows, which a customer calls terrible.
const word_set symptom_words{
    "noise|noises|noisy|sound|sounds|smell|smells|odor|odour|stink|vibration|vibrations|leak|leaks|leaking|"
    "rattle|rattling|buzz|buzzing|squeak|squeaking|grinding|smoke|heat|picture|image|display|screen|"
    "battery|signal|reception|taste",
    "صدا|صدای|سروصدا|بو|بوی|لرزش|نشتی|نشت|چکه|دود|تصویر|صفحه|نمایشگر|باتری|آنتن|طعم|مزه",
    "صوت|صوتا|الصوت|أصوات|اصوات|ضجيج|الضجيج|ضوضاء|رائحة|الرائحة|ريحة|اهتزاز|تسريب|تسرب|دخان|الصورة|صورة|"
    "الشاشة|شاشة|البطارية|بطارية|إشارة|الإشارة|طعم|الطعم"};
// Words that may stand between a severity word and the symptom it describes
// ("a terrible loud noise", «صدای بلند و وحشتناک», «صوت عالي فظيع»).
const word_set symptom_modifiers{
    "loud|strange|weird|burning|constant|high|pitched|clicking|metallic|rotten|chemical|bad|very|really|so",
    "بلند|عجیب|عجیبی|سوختگی|سوختنی|زیاد|زیادی|بدی|خیلی|واقعا",
    "عالي|عالية|غريب|غريبة|مزعج|مزعجة|قوي|قوية|حريق|كريهة|كريه|جدا"};

struct token {
  std::string_view surface;
  std::string stem;
  bool stop = false;
  bool symptom = false;
  bool modifier = false;  // may stand between a severity word and its symptom
  std::size_t severity = 0;  // words of a severity word or phrase starting here (0: none)
};

// Whether the word next to tokens [first, first + length), skipping little
// words and modifiers on either side ("the noise is terrible", "a terrible
// loud noise"), is a symptom: then the severity describes what a device
// does, not us.
bool describes_symptom(const std::vector<token>& tokens, std::size_t first, std::size_t length) {
  const auto skipped = [&](std::size_t i) { return tokens[i].stop || (tokens[i].modifier && !tokens[i].symptom); };
  for (std::size_t i = first; i-- > 0;) {
    if (!skipped(i)) {
      if (tokens[i].symptom) return true;
      break;
    }
  }
  for (std::size_t i = first + length; i < tokens.size(); ++i) {
    if (!skipped(i)) return tokens[i].symptom;
  }
  return false;
}

}  // namespace

intents detect_intents(std::string_view text, language lang) {
  thread_local std::vector<token> tokens;
  tokens.clear();
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) {
      token t{text.substr(start, end - start), {}};
      const bool latin = static_cast<unsigned char>(t.surface[0]) < 0x80;
      stem_into(t.surface, latin ? language::en : (lang == language::en ? language::fa : lang), t.stem);
      tokens.push_back(std::move(t));
    }
    start = end + 1;
  }

  intents out;
  if (tokens.empty()) return out;
  const lexicon& lex = lexicon::builtin();

  bool strong = false, medium = false, weak = false, contact = false, request = false, bot = false;
  std::size_t content = 0, greeting = 0, thanks = 0, yes = 0, no = 0, core_no = 0;
  std::size_t non_greeting = 0, non_thanks = 0, non_yes = 0, non_no = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    auto& t = tokens[i];
    const bool pair = i + 1 < tokens.size();
    const auto& next = pair ? tokens[i + 1].surface : std::string_view{};
    const auto in = [&](const word_set& s) { return s.has(t.surface, t.stem) || (pair && s.has_pair(t.surface, next)); };
    strong |= in(strong_person);
    medium |= in(medium_person);
    weak |= in(weak_person);
    contact |= in(contact_verb);
    request |= in(request_verb);
    bot |= in(bot_word);
    out.upset |= in(anger_words);
    t.severity = severity_words.has(t.surface, t.stem) ? 1 : (pair && severity_words.has_pair(t.surface, next)) ? 2 : 0;
    t.symptom = symptom_words.has(t.surface, t.stem);
    t.modifier = symptom_modifiers.has(t.surface, t.stem);
    t.stop = lex.is_stop(t.surface);
    if (!t.stop) ++content;

    // Count words that are not part of a greeting/thanks/yes/no phrasing.
    const bool g = in(greeting_words) || (i > 0 && greeting_words.has_pair(tokens[i - 1].surface, t.surface));
    const bool th = in(thanks_words) || (i > 0 && thanks_words.has_pair(tokens[i - 1].surface, t.surface));
    const bool y = in(yes_words) || (i > 0 && yes_words.has_pair(tokens[i - 1].surface, t.surface));
    const bool n = in(no_words) || (i > 0 && no_words.has_pair(tokens[i - 1].surface, t.surface));
    greeting += g;
    thanks += th;
    yes += y;
    no += n;
    core_no += no_core.has(t.surface, t.stem);
    // Stop words may pad any of these ("thank you so much", "no it did not").
    non_greeting += !g && !t.stop;
    non_thanks += !th && !t.stop;
    non_yes += !y && !th && !t.stop;
    non_no += !n && !t.stop;
  }

  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].severity > 0 && !describes_symptom(tokens, i, tokens[i].severity)) out.upset = true;
  }

  const bool short_message = content <= 3;
  // A person word alone ("agent", «کارشناس»: what the greeting tells them to type) is a request.
  out.asks_for_human = (strong && (request || contact || short_message || bot)) ||
                       (medium && (contact || (request && short_message) || content == 1)) ||
                       (weak && (contact || bot));
  out.greeting_only = greeting > 0 && non_greeting == 0;
  out.thanks_only = thanks > 0 && non_thanks == 0;
  if (yes > 0 && non_yes == 0 && core_no == 0) out.feedback = feedback_kind::yes;
  else if (core_no > 0 && non_no == 0) out.feedback = feedback_kind::no;
  return out;
}

}  // namespace pasokh::bot::detail
