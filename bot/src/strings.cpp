#include "strings.hpp"

#include <array>

namespace pasokh::bot::detail {
namespace {

struct row {
  std::string_view fa, ar, en;
};

constexpr std::array<row, 13> table{{
    // did_this_help
    {"آیا این پاسخ کمکتان کرد؟", "هل ساعدتك هذه الإجابة؟", "Did this answer help?"},
    // yes_helped
    {"بله، کمک کرد", "نعم، ساعدتني", "Yes, it helped"},
    // no_not_helped
    {"نه، کمکی نکرد", "لا، لم تساعدني", "No, it didn't"},
    // which_one
    {"منظورتان کدام یک از این‌هاست؟", "أيّ من هذه تقصد؟", "Which of these do you mean?"},
    // talk_to_person
    {"صحبت با کارشناس", "التحدث مع موظف", "Talk to a person"},
    // handoff_asked
    {"حتماً. گفتگو را به یکی از همکارانم می‌سپارم؛ لطفاً در همین گفتگو بمانید.",
     "بالتأكيد. سأحوّل المحادثة إلى أحد زملائي، يُرجى البقاء في هذه المحادثة.",
     "Of course. I'm passing you to a member of our team; please stay in this chat."},
    // handoff_low_confidence
    {"متأسفم، پاسخ این سؤال را نمی‌دانم. گفتگو را به یکی از همکارانم می‌سپارم تا راهنمایی‌تان کند.",
     "عذرًا، لا أعرف إجابة هذا السؤال. سأحوّل المحادثة إلى أحد زملائي ليساعدك.",
     "Sorry, I can't help with that myself. I'm connecting you with a colleague who can."},
    // handoff_not_helpful
    {"متأسفم که کمکی نکرد. گفتگو را به یکی از همکارانم می‌سپارم.",
     "آسف لأن ذلك لم يساعدك. سأحوّل المحادثة إلى أحد زملائي.",
     "Sorry that didn't help. I'm passing your conversation to a colleague."},
    // handoff_upset
    {"واقعاً متأسفم که این‌قدر اذیت شدید؛ حق دارید ناراحت باشید. همین حالا گفتگو را به یکی از همکارانم می‌سپارم تا "
     "پیگیری کند؛ لطفاً در همین گفتگو بمانید.",
     "نأسف حقًا لما واجهته، ونتفهّم انزعاجك تمامًا. سأحوّل المحادثة الآن إلى أحد زملائي ليتابع الأمر، يُرجى البقاء في "
     "هذه المحادثة.",
     "I'm really sorry for the trouble, and I understand your frustration. I'm passing you to a colleague right now "
     "to sort this out; please stay in this chat."},
    // handoff_attachment
    {"ممنون. من خودم نمی‌توانم عکس یا فایل را ببینم؛ آن را به یکی از همکارانم می‌سپارم تا بررسی کند.",
     "شكرًا. لا أستطيع الاطلاع على الصور أو الملفات بنفسي، لذا سأحوّلها إلى أحد زملائي ليطّلع عليها.",
     "Thanks. I can't look at photos or files myself, so I'm passing this to a colleague who can."},
    // greeting
    {"سلام! من دستیار پشتیبانی هستم. درباره گارانتی، مرجوعی، تعمیر یا ارسال بپرسید؛ برای صحبت با کارشناس هم کافی است بنویسید «کارشناس».",
     "مرحبًا! أنا مساعد الدعم. اسألني عن الضمان أو الإرجاع أو الإصلاح أو التوصيل، وللتحدث مع موظف اكتب «موظف».",
     "Hello! I'm the support assistant. Ask me about warranty, returns, repairs or delivery, or type \"agent\" to reach a person."},
    // thanks
    {"خواهش می‌کنم! سؤال دیگری هم دارید؟", "على الرحب والسعة! هل لديك سؤال آخر؟",
     "You're welcome! Anything else I can help with?"},
    // glad_it_helped
    {"خوشحالم که کمک کرد! اگر سؤال دیگری دارید بپرسید.", "يسعدني أن ذلك ساعدك! إن كان لديك سؤال آخر فاسألني.",
     "Glad it helped! Ask me anything else any time."},
}};

}  // namespace

std::string_view say(phrase p, language l) {
  const row& r = table[static_cast<std::size_t>(p)];
  switch (l) {
    case language::fa: return r.fa;
    case language::ar: return r.ar;
    case language::en: return r.en;
  }
  return r.en;
}

}  // namespace pasokh::bot::detail
