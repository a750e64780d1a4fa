#include "pasokh/bot/csat_comment.hpp"

#include <string>
#include <utility>
#include <vector>

#include "intents.hpp"
#include "lexicon.hpp"
#include "pasokh/bot/normalize.hpp"
#include "sentiment.hpp"
#include "utf8.hpp"
#include "word_set.hpp"

namespace pasokh::bot {
namespace {

using detail::word_set;
constexpr auto surface = word_set::match::surface;

// Question words. "what a…", "how kind", «چه خوب», «چقدر عالی» are
// exclamations: see exclaims. English ones ask only where a question starts
// ("where is it", "thanks, and when…"), not inside a sentence ("nobody
// called when promised"): see asks.
const word_set english_question_words{{"what|whats|where|wheres|when|whens|why|how|hows|which|who|whom|whose"}, surface};
const word_set clause_openers{{"and|but|so|also|then|ok|okay|btw|anyway|oh|thanks|thank|you|please"}, surface};
const word_set question_words{
    {"چرا|کی|کیه|کجا|کجاست|کجان|کجاس|چطور|چطوری|چگونه|چجوری|آیا|چی|چیه|چه|چند|چنده|چندمه|چقدر|چقدره|"
     "کدام|کدوم|مگه|کو|کوش",
     "متى|امتى|ايمتى|وين|وينه|وينها|فين|فينه|أين|اين|كيف|كيفاش|لماذا|ليش|ليه|هل|ماذا|شو|ايش|إيش|وش|"
     "ما هي|ما هو|اي واحد"},
    surface};
// Arabic «كم» "how much" is Persian «کم» "a little" once ك is folded.
const word_set arabic_question_words{{"كم"}, surface};
// English questions that open with a verb: "can you…", "is it…" (not "will
// recommend", "could not be happier": the next word must be one of these).
const word_set question_lead{{"can|could|would|will|is|are|am|do|does|did|should|may|has|have|any"}, surface};
const word_set question_subject{
    {"you|u|i|we|it|my|the|there|this|that|someone|somebody|anyone|anybody|your|he|she|they"}, surface};
// Praise denied is blame: "not impressed", «راضی نیستم», «غير راضي».
const word_set denial_before{{"not|never|hardly|غير|مو|مش|مب|نه"}, surface};
const word_set denial_after{{"نیستم|نیست|نبود|نبودم|نیستیم|نبودیم|نبودن|نشدم"}, surface};

const word_set request_words{
    {"please|pls|plz|pleas|need|want|wanna|send|check|cancel|change|replace|tell me|help me|let me|call me|"
     "id like|would like|looking for|waiting for",
     "لطفا|لطفاً|خواهشا|خواهشاً|میخوام|میخواهم|میخواستم|میخوایم|میخواهیم|بفرستید|بفرستین|بگید|بگین|"
     "بگویید|کنید|کنین|بکنید|بکنین|نیاز دارم|لازم دارم|ممنون میشم|ممنون میشوم|ممنون میشیم|مرسی میشم|"
     "میشه لطفا",
     "أريد|اريد|ابغى|أبغى|ابغي|أبي|ابي|بدي|بغيت|أحتاج|احتاج|نحتاج|من فضلك|لو سمحت|ارجو|أرجو|الرجاء|"
     "ياريت|يا ريت|ممكن|ارسلوا|أرسلوا|ارسل|أرسل|ابعتلي|ابعثوا|ابعثولي|الغي|ألغي"},
    surface};

// A problem that is new or still there: markers of their own.
const word_set problem_words{
    {"another|other|again|still|either|missing|broken|broke|leak|leaks|leaking|leaked|stopped|damaged|faulty|"
     "flicker|flickers|flickering|noisy|cracked|dead|error|not working|not arrived|not received|never arrived|"
     "never came|never received|didnt arrive|didnt come|didnt work|didnt get|didnt receive|hasnt arrived|"
     "havent received|still waiting",
     "دیگه|دیگر|دیگم|دیگهام|دیگرم|دیگمو|هنوز|دوباره|بازم|باز هم|نرسیده|نرسید|نیومده|نیامده|نیومد|"
     "خراب|خرابه|شکسته|شکست|نشتی|نشت|چکه|ناقص|گم|سوخته|سوخت|ایراد|ایرادی",
     "ثاني|الثاني|ثانية|الثانية|آخر|اخر|أخرى|اخرى|الاخر|الأخرى|كمان|برضو|برضه|لسه|لسا|مازال|مازالت|"
     "زال|زالت|مكسور|مكسورة|خربان|خربانة|خربت|عطلان|تسرب|يسرب|تسريب|ناقص|ناقصة|مفقود|رجعت|"
     "ما وصل|ماوصل|لم يصل|ما وصلني|لم يصلني|ما جاني|ما جا|ما اجا"},
    surface};
// "problem" and what a faulty device does: a new problem unless the comment
// says it was solved («مشکلم حل شد») or is about the service ("explain my
// issue three times, disappointing").
const word_set problem_nouns{
    {"problem|problems|issue|issues|trouble|fault|faults|noise|noises|sound|smell|smells|smoke|vibration|"
     "vibrates|rattle|rattling|buzz|buzzing|squeak|squeaking|screen|display|battery|spots|stain|stains",
     "مشکل|مشکلم|مشکلی|مشکلات|اشکال|خرابی|صدا|صدای|سروصدا|بو|بوی|لرزش|دود|صفحه|نمایشگر|باتری|لک",
     "مشكلة|مشكله|المشكلة|المشكله|مشاكل|مشكلتي|عطل|خلل|صوت|الصوت|ضجيج|رائحة|ريحة|اهتزاز|دخان|الشاشة|شاشة|"
     "البطارية|بطارية"},
    surface};
const word_set solved_words{
    {"solved|fixed|resolved|sorted|repaired|works now|working now",
     "حل|برطرف|درست شد|رفع",
     "حل|حلت|انحلت|اتحلت|انحل|اتصلح|اتصلحت|تصلح|انصلح|تم حل|تم إصلاح|تم اصلاح"},
    surface};
// Negation of a verb now (a present problem), unless praise follows:
// "can't thank you enough", «ما تقصرون».
const word_set negation_now{{"doesnt|dont|isnt|arent|wont|cant|cannot|aint"}, surface};
const word_set arabic_negation{{"ما|وما|لا|ولا|مو|مش|مب"}, surface};
// Fillers between "want"/"can't" and the thanks that makes it none of a
// request ("I want to say thanks", «می‌خوام تشکر کنم», «أريد أن أشكركم»).
const word_set fillers{{"to|say|that|a|big|you|express|my|just|really|once|again|so|much",
                        "که|بگم|یه|یک|ازتون|از|شما|واقعا",
                        "أن|ان|اقول|أقول|لكم|لك|جزيل"},
                       surface};

const word_set praise_words{
    "thanks|thank|thankyou|thx|ty|tnx|cheers|appreciate|appreciated|great|excellent|amazing|awesome|fantastic|"
    "wonderful|perfect|brilliant|outstanding|superb|nice|good|lovely|kind|friendly|polite|patient|helpful|"
    "professional|quick|quickly|fast|efficient|clear|clearly|explained|happy|satisfied|pleased|love|loved|best|"
    "recommend|impressed|smooth|easy|well done|keep up|top|gold|star|stars|legend|courteous|respectful|"
    "grateful|thankful|glad|bravo|kudos|cool|ok|okay|fine|solid",
    "ممنون|ممنونم|ممنونیم|مرسی|متشکرم|متشکر|متشکریم|سپاس|سپاسگزارم|سپاسگزاریم|تشکر|مچکرم|عالی|عالیه|"
    "عالیید|خوب|خوبه|خوبی|دمت گرم|دمتون گرم|دستتون درد|دستت درد|درد نکنه|خسته نباشید|خسته نباشین|راضی|"
    "راضیم|راضی‌ام|محترمانه|محترم|صبور|صبوری|سریع|سریعا|دقیق|مودب|مودبانه|خوش برخورد|حرفه ای|حرفهای|"
    "بینظیر|بی نظیر|فوق العاده|قدردانی|لطف|لطفتون|مهربون|مهربان|گل|بهترین|پیشنهاد|قربونت|قربانت|"
    "دمتون|گرم|نکنه|نباشید|نباشین|ممنونتونم|خوشحالم|خوشحال|کارتون درسته|درجه یک",
    "شكرا|شكراً|شكر|الشكر|مشكور|مشكورين|مشكورة|اشكرك|أشكرك|اشكركم|أشكركم|نشكركم|العافية|يعطيك|يعطيكم|"
    "ممتاز|ممتازة|ممتازين|رائع|رائعة|رائعين|روعة|جميل|جميلة|حلو|حلوة|تمام|جزاك|جزاكم|خيرا|خير|محترم|"
    "محترمة|محترمين|سريع|سريعة|بسرعة|لطيف|لطيفة|متعاون|متعاونين|راضي|راضية|مبدع|مبدعين|احسنتم|أحسنتم|"
    "بارك|تقصرون|قصرتوا|قصرتم|أفضل|افضل|مميز|مميزة|سعيد|سعيدة|الله|ممنون|عظيم|عظيمة|فخم|يسلمو|تسلم|"
    "تسلمون|يسلموا"};
const word_set complaint_words{
    {"rude|slow|late|unhelpful|unprofessional|disappointed|disappointing|disappointment|poor|bad|waited|"
     "waiting|ignored|impolite|unhappy|annoyed|annoying|careless|lazy|useless|horrible|terrible|awful|worst|"
     "unfortunately|sadly|times|not good|not great|not happy|not satisfied|not helpful|never answered|"
     "didnt help|didnt listen|didnt answer|didnt care|no one|nobody|hung up|too long",
     "بی ادب|بی ادبی|بی احترامی|بی توجه|بی توجهی|بد|بدی|ضعیف|کند|دیر|معطل|منتظر|ناراضی|ناراحت|افتضاح|"
     "متاسفانه|متأسفانه|نبود|نبودم|نبودیم|نکرد|نکردن|نکردید|ندادید|ندادن|طول کشید|اصلا|بار|دفعه",
     "وقح|وقحة|وقحين|سيء|سيئة|سيئ|سيئه|بطيء|بطيئة|بطيئه|بطيئين|متأخر|متاخر|تأخير|تاخير|تأخر|تاخر|انتظرت|"
     "انتظار|زعلان|مستاء|للأسف|للاسف|غير راضي|مو راضي|ما ساعدني|وما ساعدني|لم يساعدني|ولم يساعدني|ضعيفة|ضعيف|ما رد|"
     "ما ردوا|محد رد|اهمال|إهمال|تجاهل|تجاهلني|مرات"},
    surface};
// Words about the service that neither praise nor blame it, and the small
// words of such a comment.
const word_set service_words{
    "service|support|agent|agents|team|staff|technician|tech|guy|guys|lady|experience|help|assistance|response|"
    "reply|replies|answer|answers|delivery|installation|everyone|everybody|everything|overall|job|work|time|on time|"
    "communication|call|chat|process|today|really|very|so|much|honestly|always|minutes|came|arrived|fixed|"
    "explaining|kept|me|get|got|had|explain|took|three|two|days|hours|ever|people|person|you|your|lot",
    "پشتیبانی|پشتیبانیتون|پشتیبان|خدمات|خدماتتون|همکار|همکارتون|همکاران|همکارا|کارشناس|کارشناستون|کارشناسان|"
    "تکنسین|تیم|برخورد|رفتار|پاسخگویی|ستاره|همه|همتون|همهتون|راهنمایی|راهنماییتون|کمک|کمکتون|سرعت|تجربه|"
    "نصب|ارسال|واقعا|خیلی|بسیار|کار|کارش|کارتون|سر|وقت|اومد|آمد|امد|بود|بودم|بودید|بودن|شد|کردید|کرد|"
    "کردن|روز|سه|دو|موندم|ماندم|جواب|بدید|تا|پاسخ|تون",
    "خدمة|الخدمة|خدمتكم|الموظف|موظف|الموظفة|الفريق|فريق|للفريق|الفني|فني|الدعم|التعامل|تعامل|تجربة|التجربة|"
    "المساعدة|مساعدة|التعاون|تعاون|نجوم|نجمة|الرد|للرد|رد|السرعة|التوصيل|التركيب|جدا|جداً|كثير|كان|كانت|"
    "الموعد|موعد|وقت|كل|لكم|لك|شغل|شغله|وصل|ثلاثة|أيام|ايام|يوم|ساعات"};

struct token {
  std::string_view surface;
  std::string stem;
  bool clause_start = false;
  bool latin = false;
};

bool is_clause_break(char32_t cp) {
  switch (cp) {
    case '.': case '!': case '?': case ',': case ';': case ':': case '\n':
    case 0x060C: case 0x061B: case 0x061F: case 0x06D4: case 0xFF1F: case 0xFF01:
      return true;
    default:
      return false;
  }
}

bool is_question_mark(char32_t cp) { return cp == '?' || cp == 0x061F || cp == 0xFF1F; }

// The text's clauses, normalized, each a list of words; whether a "?" ends any.
struct clauses {
  std::vector<std::string> text;
  bool question_mark = false;
};

clauses split_clauses(std::string_view raw) {
  clauses out;
  std::size_t pos = 0, start = 0;
  const auto flush = [&](std::size_t end) {
    auto n = normalize(raw.substr(start, end - start));
    if (!n.empty()) out.text.push_back(std::move(n));
  };
  while (pos < raw.size()) {
    const std::size_t at = pos;
    const char32_t cp = detail::next_code_point(raw, pos);
    if (!is_clause_break(cp)) continue;
    out.question_mark |= is_question_mark(cp);
    flush(at);
    start = pos;
  }
  flush(raw.size());
  return out;
}

class reader {
 public:
  reader(std::vector<token> tokens, language lang) : t_(std::move(tokens)), lang_(lang) {}

  bool in(const word_set& s, std::size_t i) const {
    return s.has(t_[i].surface, t_[i].stem) || (i + 1 < t_.size() && !t_[i + 1].clause_start &&
                                                s.has_pair(t_[i].surface, t_[i + 1].surface));
  }
  // The words a phrase of `s` starting at i covers (0: none).
  std::size_t span(const word_set& s, std::size_t i) const {
    if (i + 1 < t_.size() && !t_[i + 1].clause_start && s.has_pair(t_[i].surface, t_[i + 1].surface)) return 2;
    return s.has(t_[i].surface, t_[i].stem) ? 1 : 0;
  }
  bool praise_at(std::size_t i) const { return i < t_.size() && in(praise_words, i); }
  // The next word that is no filler, within the clause, praises: "want to
  // say thanks", "can't thank you enough".
  bool praise_follows(std::size_t i) const {
    for (std::size_t j = i + 1; j < t_.size() && !t_[j].clause_start; ++j) {
      if (praise_at(j)) return true;
      if (!fillers.has(t_[j].surface, t_[j].stem)) return false;
    }
    return false;
  }
  // "what a day", "how kind", «چه خوب», «چقدر عالی»: no question.
  bool exclaims(std::size_t i) const {
    if (i + 1 >= t_.size() || t_[i + 1].clause_start) return false;
    const auto next = t_[i + 1].surface;
    return next == "a" || next == "an" || praise_at(i + 1) ||
           (i + 2 < t_.size() && !t_[i + 2].clause_start && (next == "very" || next == "so" || next == "خیلی") &&
            praise_at(i + 2));
  }

  bool names_topic(std::size_t i) const {
    const auto& lex = detail::lexicon::builtin();
    if (t_[i].latin) return lex.concept_of(detail::stem(t_[i].surface, language::en), language::en) != detail::no_concept;
    for (language l : {language::fa, language::ar})
      if (lex.concept_of(detail::stem(t_[i].surface, l), l) != detail::no_concept) return true;
    return false;
  }
  bool denied(std::size_t i, std::size_t n) const {
    const auto word = [&](std::size_t k) { return std::string_view(t_[k].surface); };
    return (i > 0 && !t_[i].clause_start && denial_before.has(word(i - 1), word(i - 1))) ||
           (i + n < t_.size() && !t_[i + n].clause_start && denial_after.has(word(i + n), word(i + n)));
  }
  bool asks(std::size_t i) const {
    if (in(english_question_words, i) && !exclaims(i) &&
        (t_[i].clause_start || (i > 0 && clause_openers.has(t_[i - 1].surface, t_[i - 1].stem))))
      return true;
    if ((in(question_words, i) || (lang_ == language::ar && in(arabic_question_words, i))) && !exclaims(i)) return true;
    return t_[i].clause_start && t_[i].latin && question_lead.has(t_[i].surface, t_[i].stem) && i + 1 < t_.size() &&
           !t_[i + 1].clause_start && question_subject.has(t_[i + 1].surface, t_[i + 1].stem);
  }
  bool requests(std::size_t i) const { return in(request_words, i) && !praise_follows(i + span(request_words, i) - 1); }
  // A present problem: a marker, "doesn't…", «نمی‌…», «ما يشتغل».
  bool new_problem(std::size_t i) const {
    if (in(problem_words, i)) return true;
    const auto w = t_[i].surface;
    if (negation_now.has(w, w)) return !praise_follows(i);
    if (w.starts_with("نمی") && w.size() > 6) return !praise_at(i);
    if (arabic_negation.has(w, w) && i + 1 < t_.size() && !t_[i + 1].clause_start) {
      const auto verb = t_[i + 1].surface;
      return (verb.starts_with("ی") || verb.starts_with("ت")) && !praise_at(i + 1);
    }
    return false;
  }

  // What the words say: a request (why), or how much they praise, blame
  // or otherwise explain of the comment.
  struct signals {
    std::string_view request;  // why it is one; empty: none found
    int praise = 0, complaint = 0, explained = 0, unexplained = 0;
    std::string rest;  // the unexplained words: what the knowledge base may answer
    bool topic = false;  // one of them is after-sales vocabulary (a concept of the lexicon)
  };

  signals scan() const {
    signals s;
    bool problem_noun = false, solved = false;
    for (std::size_t i = 0; i < t_.size() && s.request.empty(); ++i) {
      if (asks(i)) s.request = "question";
      else if (requests(i)) s.request = "request";
      else if (new_problem(i)) s.request = "problem";
      problem_noun |= in(problem_nouns, i);
      solved |= in(solved_words, i);
    }
    // Each word once, by the first list that explains it (a phrase covers both words).
    const auto& lex = detail::lexicon::builtin();
    for (std::size_t i = 0; i < t_.size();) {
      std::size_t n = 0;
      if ((n = span(complaint_words, i))) ++s.complaint;
      else if ((n = span(praise_words, i))) ++(denied(i, n) ? s.complaint : s.praise);
      // Request words here were excused: "want to say thanks".
      else {
        for (const word_set* neutral : {&service_words, &solved_words, &problem_nouns, &request_words, &negation_now, &fillers})
          if ((n = span(*neutral, i))) break;
      }
      if (n) {
        s.explained += static_cast<int>(n);
      } else {
        n = 1;
        const auto w = t_[i].surface;
        const bool small_number = w.size() == 1 && w[0] >= '1' && w[0] <= '5';  // "5 stars", «۵ ستاره»
        if (small_number) {
          ++s.explained;
        } else if (!lex.is_stop(w)) {
          ++s.unexplained;
          s.rest += (s.rest.empty() ? "" : " ") + std::string(w);
          s.topic |= names_topic(i);
        }
      }
      i += n;
    }
    if (s.request.empty() && problem_noun && !solved && s.complaint == 0) s.request = "problem";
    return s;
  }

 private:
  std::vector<token> t_;
  language lang_;
};

}  // namespace

std::string_view to_string(comment_kind k) noexcept {
  switch (k) {
    case comment_kind::praise: return "praise";
    case comment_kind::complaint: return "complaint";
    case comment_kind::request: return "request";
  }
  return "request";
}

comment_reading read_csat_comment(const faq_index& index, std::string_view text, std::string_view language_hint,
                                  const bot_options& options) {
  // Only what is read can be called feedback: a longer comment may carry a
  // request past the part read, so it goes on to someone who reads it all.
  if (text.size() > faq_index::max_query_bytes) return {comment_kind::request, "too long to read whole"};
  const auto input = text;
  const clauses parts = split_clauses(input);
  if (parts.question_mark) return {comment_kind::request, "question"};
  language lang = guess_language(input).lang.value_or(parse_language(language_hint).value_or(options.default_language));

  std::vector<token> tokens;
  std::string words;  // all clauses, for the intents
  for (const auto& clause : parts.text) {
    bool first = true;
    for (std::size_t start = 0; start < clause.size();) {
      auto end = clause.find(' ', start);
      if (end == std::string::npos) end = clause.size();
      token t{std::string_view(clause).substr(start, end - start)};
      t.latin = static_cast<unsigned char>(t.surface[0]) < 0x80;
      t.stem = detail::stem(t.surface, t.latin ? language::en : (lang == language::en ? language::fa : lang));
      t.clause_start = std::exchange(first, false);
      tokens.push_back(std::move(t));
      start = end + 1;
    }
    words += (words.empty() ? "" : " ") + clause;
  }

  const detail::intents intent = detail::detect_intents(words, lang);
  if (intent.asks_for_human) return {comment_kind::request, "person"};
  auto s = reader(std::move(tokens), lang).scan();
  if (!s.request.empty()) return {comment_kind::request, s.request};
  // What the knowledge base answers is a question, however it is put; asked
  // of the words that are not feedback ("quick and friendly" would match
  // shipping times), when they name an after-sales topic (a word or two of
  // anything else, «شدم» "I was", matches some entry outright).
  if (s.topic) {
    const ranking r = index.search(s.rest, lang);
    if (!r.empty() && r.confidence >= options.answer_confidence) return {comment_kind::request, "faq"};
  }
  if (intent.upset || detail::shows_anger(input)) ++s.complaint;
  switch (detail::emoji_feeling(input)) {
    case detail::feeling::pleased: ++s.praise; ++s.explained; break;
    case detail::feeling::upset: ++s.complaint; ++s.explained; break;
    default: break;
  }
  // Feedback speaks of the service: mostly words that praise, blame or name it.
  if (s.praise + s.complaint == 0 || s.unexplained > s.explained) return {comment_kind::request, "unclear"};
  if (s.complaint > 0 && s.complaint >= s.praise) return {comment_kind::complaint, "complaint"};
  return {comment_kind::praise, "praise"};
}

}  // namespace pasokh::bot
