/*! Pasokh web chat widget. One tag, no build step:
 *  <script src="https://support.example.com/widget/widget.js" data-channel="web" async></script>
 * Optional: data-lang="fa|ar|en" (else <html lang>, the browser, the first message),
 * data-server="https://support.example.com" (else the script's origin).
 * Everything lives in one closed-over scope and one Shadow DOM: no globals, no page CSS. */
(function () {
  'use strict';
  var doc = document, win = window;
  var script = doc.currentScript;
  if (!script) {
    var all = doc.querySelectorAll('script[src*="widget.js"][data-channel]');
    script = all[all.length - 1];
  }
  if (!script || !win.WebSocket || !win.fetch || !Element.prototype.attachShadow) return;

  var CHANNEL = script.getAttribute('data-channel') || 'web';
  var SERVER = (script.getAttribute('data-server') || new URL(script.src, location.href).origin).replace(/\/+$/, '');
  var WS_URL = SERVER.replace(/^http/, 'ws') + '/ws/chat?channel=' + encodeURIComponent(CHANNEL);
  var STORE_KEY = 'pasokh-webchat:' + CHANNEL + '@' + SERVER;

  // --- strings -------------------------------------------------------------
  var STRINGS = {
    en: {
      open: 'Chat with us', close: 'Close chat', title: 'Support', messages: 'Messages',
      end: 'End chat', endAsk: 'Remove this chat from this device (for a shared computer)? Our team keeps it.',
      endCopy: 'Email me a copy of this conversation ({email})', endCancel: 'Cancel', copySent: 'A copy is on its way to {email}.',
      connecting: 'Connecting…', reconnecting: 'Connection lost. Reconnecting…', online: 'We usually reply within minutes.',
      offline: 'No agent is online right now.', placeholder: 'Write a message…', send: 'Send', message: 'Message',
      you: 'You', agent: 'Support', bot: 'Assistant', system: 'Notice', typing: '{name} is typing…',
      queue: 'You are number {n} in the queue.', wait: 'Estimated wait: about {m} min.',
      later: 'Our team will answer you as soon as someone is back.',
      resolved: 'This conversation has been resolved. Write again if you need more help.',
      newConv: 'New conversation', offlineOffer: 'No agent is online right now. Leave your email and we will answer you there.',
      offlineKnown: 'No agent is online right now. We will answer you at {email}.',
      offlineHere: 'No agent is online right now. Leave your message here and we will answer as soon as someone is back.',
      email: 'Email', name: 'Name', save: 'Send', saved: 'Thank you! We will answer you at {email}.',
      verify: 'We mailed a code to {email}. Type it here to confirm the address: then we can answer you there, and this chat joins your earlier conversations.',
      code: 'Code from the email', confirm: 'Confirm', verified: 'Thank you, {email} is confirmed.',
      wrongCode: 'That is not the code we mailed. Tries left: {n}.', badCode: 'The code is the 6 digits in the email.',
      codeVoid: 'Too many wrong tries: this code no longer works. Ask for a new one.',
      codeExpired: 'This code has expired or was already used. Ask for a new one.', newCode: 'Send a new code',
      codeLater: 'A new code can be sent 10 minutes after the last one. Please try again then.',
      prechat: 'Before we start, tell us how to reach you.', start: 'Start chat', optional: '(optional)',
      tooLong: 'A message can have at most {n} characters.', rate: 'You are sending messages too fast. Please wait a moment.',
      retry: 'Not sent yet; it will be sent when the connection is back.', badEmail: 'Please enter a valid email address.',
      sending: 'Sending', sent: 'Sent', read: 'Seen', failed: 'Not sent', left: '{n} characters left',
      unread: '{n} new', closed: 'The chat is not available right now. Please try again later.', choices: 'Choices',
      elsewhere: 'This chat is open in too many other tabs. Click here to continue in this one.',
      removed: 'Message removed'
    },
    fa: {
      open: 'گفتگو با پشتیبانی', close: 'بستن گفتگو', title: 'پشتیبانی', messages: 'پیام‌ها',
      end: 'پایان گفتگو', endAsk: 'این گفتگو از این دستگاه پاک شود (برای رایانهٔ مشترک)؟ نزد ما می‌ماند.',
      endCopy: 'رونوشت این گفتگو را برایم ایمیل کنید ({email})', endCancel: 'انصراف', copySent: 'رونوشت گفتگو به‌زودی به {email} می‌رسد.',
      connecting: 'در حال اتصال…', reconnecting: 'اتصال قطع شد. در حال اتصال دوباره…', online: 'معمولاً در چند دقیقه پاسخ می‌دهیم.',
      offline: 'هم‌اکنون هیچ کارشناسی آنلاین نیست.', placeholder: 'پیام خود را بنویسید…', send: 'ارسال', message: 'پیام',
      you: 'شما', agent: 'پشتیبان', bot: 'دستیار', system: 'اطلاعیه', typing: '{name} در حال نوشتن است…',
      queue: 'شما نفر {n} صف هستید.', wait: 'زمان تقریبی انتظار: حدود {m} دقیقه.',
      later: 'به‌محض بازگشت همکارانمان به شما پاسخ می‌دهیم.',
      resolved: 'این گفتگو به پایان رسید. اگر باز هم کمک لازم دارید، دوباره بنویسید.',
      newConv: 'گفتگوی تازه', offlineOffer: 'هم‌اکنون هیچ کارشناسی آنلاین نیست. ایمیل خود را بگذارید تا از همان راه پاسخ دهیم.',
      offlineKnown: 'هم‌اکنون هیچ کارشناسی آنلاین نیست. پاسخ را به {email} می‌فرستیم.',
      offlineHere: 'هم‌اکنون هیچ کارشناسی آنلاین نیست. پیامتان را همین‌جا بگذارید؛ به محض بازگشت همکاران پاسخ می‌دهیم.',
      email: 'ایمیل', name: 'نام', save: 'ثبت', saved: 'سپاس! پاسخ را به {email} می‌فرستیم.',
      verify: 'کدی به {email} فرستادیم. برای تأیید نشانی، آن را همین‌جا وارد کنید تا پاسخ‌ها را به آنجا بفرستیم و این گفتگو به گفتگوهای پیشین شما پیوند بخورد.',
      code: 'کد ایمیل', confirm: 'تأیید', verified: 'سپاس، نشانی {email} تأیید شد.',
      wrongCode: 'این کدی نیست که فرستادیم. تلاش‌های باقی‌مانده: {n}.', badCode: 'کد همان ۶ رقمِ درون ایمیل است.',
      codeVoid: 'تلاش‌های نادرست زیاد شد و این کد دیگر کار نمی‌کند. کدی تازه بخواهید.',
      codeExpired: 'این کد منقضی شده یا پیش‌تر به کار رفته است. کدی تازه بخواهید.', newCode: 'فرستادن کد تازه',
      codeLater: 'کد تازه را ۱۰ دقیقه پس از کد پیشین می‌توان فرستاد. لطفاً آن هنگام دوباره بخواهید.',
      prechat: 'پیش از شروع، بگویید چطور با شما در تماس باشیم.', start: 'شروع گفتگو', optional: '(اختیاری)',
      tooLong: 'هر پیام حداکثر {n} نویسه می‌تواند داشته باشد.', rate: 'پیام‌ها را خیلی سریع می‌فرستید. لطفاً کمی صبر کنید.',
      retry: 'هنوز ارسال نشده؛ با برقراری اتصال فرستاده می‌شود.', badEmail: 'لطفاً یک نشانی ایمیل درست وارد کنید.',
      sending: 'در حال ارسال', sent: 'ارسال شد', read: 'دیده شد', failed: 'ارسال نشد', left: '{n} نویسه باقی مانده',
      unread: '{n} پیام تازه', closed: 'گفتگو هم‌اکنون در دسترس نیست. لطفاً بعداً دوباره تلاش کنید.', choices: 'گزینه‌ها',
      elsewhere: 'این گفتگو در زبانه‌های دیگرِ زیادی باز است. برای ادامه در همین زبانه اینجا را بزنید.',
      removed: 'پیام حذف شد'
    },
    ar: {
      open: 'تحدّث معنا', close: 'إغلاق المحادثة', title: 'الدعم', messages: 'الرسائل',
      end: 'إنهاء المحادثة', endAsk: 'حذف هذه المحادثة من هذا الجهاز (لجهاز مشترك)؟ تبقى لدى فريقنا.',
      endCopy: 'أرسل لي نسخة من هذه المحادثة بالبريد الإلكتروني ({email})', endCancel: 'إلغاء', copySent: 'نسخة من المحادثة في طريقها إلى {email}.',
      connecting: 'جارٍ الاتصال…', reconnecting: 'انقطع الاتصال. جارٍ إعادة الاتصال…', online: 'نرد عادةً خلال دقائق.',
      offline: 'لا يوجد موظف متصل الآن.', placeholder: 'اكتب رسالتك…', send: 'إرسال', message: 'الرسالة',
      you: 'أنت', agent: 'الدعم', bot: 'المساعد', system: 'إشعار', typing: '{name} يكتب…',
      queue: 'ترتيبك في قائمة الانتظار: {n}.', wait: 'وقت الانتظار المتوقع: حوالي {m} دقيقة.',
      later: 'سيرد عليك فريقنا فور عودته.',
      resolved: 'تم حل هذه المحادثة. اكتب مجددًا إذا احتجت إلى مساعدة أخرى.',
      newConv: 'محادثة جديدة', offlineOffer: 'لا يوجد موظف متصل الآن. اترك بريدك الإلكتروني وسنرد عليك عبره.',
      offlineKnown: 'لا يوجد موظف متصل الآن. سنرد عليك على {email}.',
      offlineHere: 'لا يوجد موظف متصل الآن. اترك رسالتك هنا وسنرد عليك فور عودة أحد الموظفين.',
      email: 'البريد الإلكتروني', name: 'الاسم', save: 'إرسال', saved: 'شكرًا لك! سنرد عليك على {email}.',
      verify: 'أرسلنا رمزًا إلى {email}. اكتبه هنا لتأكيد العنوان، فنرسل ردودنا إليه ونربط هذه المحادثة بمحادثاتك السابقة.',
      code: 'الرمز من البريد', confirm: 'تأكيد', verified: 'شكرًا لك، تم تأكيد {email}.',
      wrongCode: 'هذا ليس الرمز الذي أرسلناه. المحاولات المتبقية: {n}.', badCode: 'الرمز هو الأرقام الستة في البريد.',
      codeVoid: 'محاولات خاطئة كثيرة: لم يعد هذا الرمز صالحًا. اطلب رمزًا جديدًا.',
      codeExpired: 'انتهت صلاحية هذا الرمز أو استُخدم من قبل. اطلب رمزًا جديدًا.', newCode: 'إرسال رمز جديد',
      codeLater: 'يمكن إرسال رمز جديد بعد ١٠ دقائق من الرمز السابق. يرجى المحاولة حينها.',
      prechat: 'قبل أن نبدأ، أخبرنا كيف نتواصل معك.', start: 'ابدأ المحادثة', optional: '(اختياري)',
      tooLong: 'الحد الأقصى للرسالة {n} حرف.', rate: 'أنت ترسل الرسائل بسرعة كبيرة. يرجى الانتظار قليلًا.',
      retry: 'لم تُرسل بعد؛ ستُرسل عند عودة الاتصال.', badEmail: 'يرجى إدخال بريد إلكتروني صحيح.',
      sending: 'جارٍ الإرسال', sent: 'أُرسلت', read: 'تمت القراءة', failed: 'لم تُرسل', left: 'تبقّى {n} حرف',
      unread: '{n} جديدة', closed: 'المحادثة غير متاحة الآن. يرجى المحاولة لاحقًا.', choices: 'خيارات',
      elsewhere: 'هذه المحادثة مفتوحة في علامات تبويب أخرى كثيرة. انقر هنا للمتابعة في هذه.',
      removed: 'تم حذف الرسالة'
    }
  };
  var RTL = { fa: true, ar: true };

  function supported(tag) {
    var l = String(tag || '').toLowerCase().split(/[-_]/)[0];
    return STRINGS[l] ? l : '';
  }

  function t(key, vars) {
    var s = (STRINGS[lang] || STRINGS.en)[key] || STRINGS.en[key] || key;
    return s.replace(/\{(\w+)\}/g, function (_, k) { return vars && vars[k] != null ? vars[k] : ''; });
  }
  function num(n) {
    try { return new Intl.NumberFormat(lang).format(n); } catch (e) { return String(n); }
  }
  // Only a clear sign counts: a letter only Persian has (پ چ ژ گ ک ی), else
  // two letters Persian seldom writes (ة أ إ ى ؤ ئ, tanween; not ي ك: Persian
  // typed on an Arabic keyboard has them, «ميخوام كالا رو مرجوع كنم»), or two
  // Latin words and no Arabic script. "سلام", "OK", an order number or an
  // email keep the current language (the server reads each text anyway), and
  // so does Latin text with one of these Persian words ("salam, garanti
  // chand mahe?"): the server's longer list reads it, and its ack sets the panel.
  var FINGLISH = /(?:^|[^a-z])(?:salaa?m|slm|mersi|mamnoo?n|lotfan|chera|chetori?|chejoori|chand|cheghadr|koja(?:st)?|mikh(?:a|aa|asta)m|(?:ne)?mishe|mitoonam|kon(?:id|am)|nemikone|kharab|garanti(?:sh)?|tamir|sefaresh(?:am|amo|e)?|dastgah(?:am)?|yakhchal|gooshim?|ersal|marjooi?|bazgasht|peygiri|hanooz|(?:na)?shode|nareside|darid|nist|kheili)(?![a-z])/i;
  function detectLanguage(text) {
    text = text.replace(/\S+@\S+|https?:\/\/\S+/g, '');
    var arabic = (text.match(/[\u0600-\u06FF]/g) || []).length;
    var latin = (text.match(/[A-Za-z]/g) || []).length;
    if (arabic && arabic >= latin) {
      if (/[\u067E\u0686\u0698\u06AF\u06A9\u06CC]/.test(text)) return 'fa';
      return (text.match(/[\u0629\u0623\u0625\u0649\u0624\u0626\u064B-\u064D]/g) || []).length >= 2 ? 'ar' : '';
    }
    if (arabic || FINGLISH.test(text)) return '';
    return (text.match(/(?:^|\s)[A-Za-z]{2,}(?=[\s.,!?;:]|$)/g) || []).length >= 2 ? 'en' : '';
  }
  function codePoints(s) { return Array.from(s).length; }

  // --- persistent state (localStorage, shared by tabs) ------------------------
  function load() {
    try { return JSON.parse(localStorage.getItem(STORE_KEY)) || {}; } catch (e) { return {}; }
  }
  var saved = load();
  var state = {
    token: saved.token || '', expiresAt: saved.expires_at || 0, issuedAt: saved.issued_at || 0,
    conv: saved.conv || '', open: !!saved.open, outbox: Array.isArray(saved.outbox) ? saved.outbox : [],
    lang: supported(saved.lang),  // the language the customer writes in, once known
    verify: saved.verify && saved.verify.until > Date.now() ? saved.verify : null  // {email, until}: a code mailed, not typed yet
  };
  // The outbox is shared by the visitor's tabs: each writes its own unsent
  // messages over the others' kept ones, leaving out only those it saw stored
  // or given up (done). A tab closed before its socket came back leaves its
  // messages for the next page to send.
  var done = {}, mine = {};  // client id → true: finished here; written in this tab
  function persist() {
    var outbox = state.outbox.slice(), have = {};
    outbox.forEach(function (i) { have[i.client_id] = true; });
    (load().outbox || []).forEach(function (i) { if (i && !have[i.client_id] && !done[i.client_id]) outbox.push(i); });
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify({
        token: state.token, expires_at: state.expiresAt, issued_at: state.issuedAt, conv: state.conv,
        open: state.open, outbox: outbox.slice(-50), lang: state.lang, verify: state.verify
      }));
    } catch (e) { /* private mode or full: the session lasts as long as the page */ }
  }

  // The customer's own writing wins (see send()); before it, data-lang or the
  // page's <html lang>, then the browser's languages.
  var lang = state.lang || supported(script.getAttribute('data-lang')) || supported(doc.documentElement.lang);
  if (!lang) {
    var prefs = navigator.languages || [navigator.language];
    for (var i = 0; i < prefs.length && !lang; i++) lang = supported(prefs[i]);
  }
  lang = lang || 'en';

  // --- DOM -------------------------------------------------------------------
  function el(tag, attrs, kids) {
    var n = doc.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') n.textContent = attrs[k];
      else if (k.slice(0, 2) === 'on') n.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== false && attrs[k] != null) n.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) n.appendChild(c); });
    return n;
  }

  var CSS = [
    ':host{all:initial}',
    '*{box-sizing:border-box}',
    '.root{position:fixed;bottom:20px;inset-inline-end:20px;z-index:2147483000;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Vazirmatn,Tahoma,"Noto Sans Arabic",sans-serif;color:#1c2430}',
    '.launcher{display:flex;align-items:center;gap:8px;margin-inline-start:auto;border:0;border-radius:28px;padding:12px 18px;background:#0b5cab;color:#fff;font:inherit;font-weight:600;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}',
    '.launcher:hover{background:#094c8e}',
    '.badge{min-width:20px;padding:0 6px;border-radius:10px;background:#d93025;color:#fff;font-size:12px;line-height:20px;text-align:center}',
    '.panel{display:flex;flex-direction:column;width:min(370px,calc(100vw - 24px));height:min(560px,calc(100vh - 110px));margin-bottom:12px;background:#fff;border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.28);overflow:hidden}',
    '.panel[hidden],[hidden]{display:none!important}',
    'header{display:flex;flex-shrink:0;align-items:center;gap:8px;padding:12px 14px;background:#0b5cab;color:#fff}',
    'header h2{flex:1;margin:0;font-size:16px}',
    '.grow{flex:1}.row{display:flex}.notice p{margin:0}',
    '.sub{font-size:12px;opacity:.9;margin:0}',
    '.x{border:0;background:transparent;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:4px 8px;border-radius:6px}',
    '.end{border:1px solid rgba(255,255,255,.7);background:transparent;color:#fff;font:inherit;font-size:12px;border-radius:6px;padding:3px 8px;cursor:pointer}',
    '.banner{padding:6px 12px;font-size:13px;background:#fff4ce;color:#5c4400;border-bottom:1px solid #f0dc9a}',
    '.notice{margin:8px 12px;padding:8px 10px;border-radius:8px;background:#eef4fb;font-size:13px;overflow-wrap:anywhere}',
    // On a short screen (landscape, the keyboard open) the notices scroll in
    // their own part: the header and a readable log keep their room.
    '.notices{flex:0 1 auto;min-height:0;max-height:40%;overflow-y:auto}',
    '.notice form,.prechat{display:flex;flex-direction:column;gap:6px;margin-top:6px}',
    '.notice form.inline{flex-direction:row;align-items:center}.notice form.inline input{flex:1;min-width:0}',
    'label{font-size:12px;font-weight:600}',
    'input,textarea{font:inherit;color:inherit;border:1px solid #7b8794;border-radius:8px;padding:7px 9px;width:100%;background:#fff}',
    '.log{flex:1;min-height:min(120px,30%);overflow-y:auto;overscroll-behavior:contain;padding:10px 12px;background:#f6f8fb;display:flex;flex-direction:column;gap:6px}',
    '.msg{max-width:84%;padding:7px 10px;border-radius:12px;background:#fff;border:1px solid #e1e6ee;align-self:flex-start}',
    '.msg.customer{align-self:flex-end;background:#dcebfb;border-color:#c3daf4}',
    '.msg.system{align-self:center;background:transparent;border:0;color:#4a5868;font-size:12px;text-align:center}',
    '.who{font-size:11px;font-weight:700;color:#39506b}',
    '.text{white-space:pre-wrap;overflow-wrap:anywhere}',
    '.meta{font-size:11px;color:#5a6878;margin-top:2px;text-align:end}',
    '.msg.failed .meta{color:#b3261e}',
    '.msg.erased .text{font-style:italic;color:#5a6878}',
    '.sep{align-self:center;font-size:12px;color:#5a6878;padding:4px 0}',
    '.choices{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}',
    '.choices button{border:1px solid #0b5cab;background:#fff;color:#0b5cab;border-radius:16px;padding:4px 12px;font:inherit;cursor:pointer}',
    '.choices button[disabled]{opacity:.55;cursor:default}',
    '.typing{min-height:20px;padding:0 14px;font-size:12px;color:#4a5868;background:#f6f8fb}',
    '.alert{padding:6px 12px;font-size:13px;background:#fde7e6;color:#8c1d18}',
    '.composer{display:flex;flex-shrink:0;gap:8px;align-items:flex-end;padding:10px;border-top:1px solid #e1e6ee}',
    '.composer textarea{resize:none;max-height:120px;min-height:40px}',
    '.primary{border:0;border-radius:8px;padding:9px 14px;background:#0b5cab;color:#fff;font:inherit;font-weight:600;cursor:pointer}',
    '.primary[disabled]{opacity:.5;cursor:default}',
    '.sent{margin:0 0 8px;margin-inline-start:auto;max-width:300px}',
    '.end-ask .row{display:flex;gap:8px;align-items:center}.end-ask .copy{display:block;margin:6px 0}.end-ask .secondary{margin-top:0}',
    '.count{font-size:11px;color:#5a6878;padding:0 12px}',
    '.verify .row{gap:6px}.verify .row input{flex:1;min-width:0;letter-spacing:.15em}',
    '.secondary{align-self:flex-start;margin-top:6px;border:1px solid #0b5cab;background:#fff;color:#0b5cab;border-radius:8px;padding:5px 12px;font:inherit;cursor:pointer}',
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}',
    // Rings and borders at least 3:1 against what is around them (WCAG 1.4.11).
    'button:focus-visible,input:focus-visible,textarea:focus-visible,.log:focus-visible{outline:3px solid #b45309;outline-offset:2px}',
    'header button:focus-visible{outline-color:#fff}',
    // Phones, and short screens: the open panel takes the whole screen; inputs
    // at 16px, or iOS zooms in when one gets focus.
    '@media (pointer:coarse){input,textarea{font-size:16px}.x,.end,.attach,.primary,.secondary,.choices button{min-height:44px;min-width:44px}}',
    '@media (max-width:480px),(max-height:500px){.panel{position:fixed;inset:0;width:auto;height:auto;margin:0;border-radius:0}.notice{margin:6px 8px;padding:6px 8px}}',
    '@media (prefers-reduced-motion:no-preference){.panel{animation:pop .15s ease-out}@keyframes pop{from{opacity:0;transform:translateY(8px)}}}'
  ].join('\n');

  var host, root, launcher, badge, launcherLabel, panel, titleEl, subEl, closeBtn, endBtn, endBox, banner, offlineBox, prechatBox,
    verifyBox, verifyText, codeForm, codeLabel, codeInput, codeBtn, verifyStatus, newCodeBtn, queueBox, logEl, typingEl,
    alertEl, textarea, sendBtn, countEl, msgLabel, sentNote, sentTimer = 0;

  function build() {
    host = el('div', { 'data-pasokh-widget': CHANNEL });
    var shadow = host.attachShadow({ mode: 'open' });
    // A constructed sheet, not <style> or style="": a shop whose CSP allows no
    // inline styles (style-src 'self') still gets a styled widget.
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
    } catch (e) { shadow.appendChild(el('style', { text: CSS })); }  // older browsers
    var uid = 'pw' + Math.random().toString(36).slice(2, 8);
    titleEl = el('h2', { id: uid + 't' });
    subEl = el('p', { 'class': 'sub', role: 'status', 'aria-live': 'polite' });
    closeBtn = el('button', { type: 'button', 'class': 'x', onclick: function () { setOpen(false, true); } }, [el('span', { 'aria-hidden': 'true', text: '×' })]);
    endBtn = el('button', { type: 'button', 'class': 'end', hidden: true, onclick: endChat });
    // End chat asked in the panel when a copy can be mailed (a confirm() has no checkbox).
    endBox = el('div', { 'class': 'notice end-ask', role: 'alertdialog', hidden: true });
    banner = el('div', { 'class': 'banner', role: 'status', hidden: true, onclick: function () { resumeHere(true); } });
    offlineBox = el('div', { 'class': 'notice', hidden: true });
    prechatBox = el('div', { 'class': 'notice', hidden: true });
    // The email the customer gave links nothing, and gets no replies, until
    // they type here the code we mailed to it: proof that whoever reads that
    // mailbox is at this widget (a link opened anywhere was not).
    verifyText = el('p', { role: 'status' });
    codeLabel = el('label', { 'for': uid + 'c' });
    codeInput = el('input', { id: uid + 'c', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '20', dir: 'ltr',
      oninput: function () { var a = asciiDigits(codeInput.value); if (a !== codeInput.value) codeInput.value = a; } });
    codeBtn = el('button', { type: 'submit', 'class': 'primary' });
    codeForm = el('form', { novalidate: true, onsubmit: function (e) { e.preventDefault(); sendCode(); } },
      [codeLabel, el('div', { 'class': 'row' }, [codeInput, codeBtn])]);
    verifyStatus = el('p', { 'class': 'result', role: 'status', 'aria-live': 'polite' });
    newCodeBtn = el('button', { type: 'button', 'class': 'secondary', hidden: true, onclick: askNewCode });
    verifyBox = el('div', { 'class': 'notice verify', hidden: true }, [verifyText, verifyStatus, newCodeBtn]);
    queueBox = el('div', { 'class': 'notice', role: 'status', 'aria-live': 'polite', hidden: true });
    logEl = el('div', { 'class': 'log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', tabindex: '0' });
    typingEl = el('div', { 'class': 'typing', 'aria-live': 'polite' });
    alertEl = el('div', { 'class': 'alert', role: 'alert', hidden: true });
    msgLabel = el('label', { 'for': uid + 'm', 'class': 'sr' });
    textarea = el('textarea', { id: uid + 'm', rows: '1', autocomplete: 'off', oninput: onInput, onkeydown: onKey });
    sendBtn = el('button', { type: 'submit', 'class': 'primary' });
    countEl = el('div', { 'class': 'count', 'aria-live': 'polite', hidden: true });
    var composer = el('form', { 'class': 'composer', onsubmit: function (e) { e.preventDefault(); submit(); } }, [msgLabel, textarea, sendBtn]);
    addAttach(composer, textarea);
    panel = el('section', { 'class': 'panel', role: 'dialog', 'aria-labelledby': uid + 't', id: uid + 'p', hidden: true, onkeydown: function (e) {
      if (e.key === 'Escape') { e.stopPropagation(); setOpen(false, true); }
      trapFocus(e);
    } }, [
      el('header', {}, [el('div', { 'class': 'grow' }, [titleEl, subEl]), endBtn, closeBtn]),
      banner, el('div', { 'class': 'notices' }, [endBox, offlineBox, prechatBox, verifyBox, queueBox]), logEl, typingEl, alertEl, countEl, composer
    ]);
    badge = el('span', { 'class': 'badge', hidden: true, 'aria-hidden': 'true' });
    launcherLabel = el('span');
    launcher = el('button', { type: 'button', 'class': 'launcher', 'aria-haspopup': 'dialog', 'aria-expanded': 'false', 'aria-controls': uid + 'p',
      onclick: function () { setOpen(panel.hidden, true); } }, [launcherLabel, badge]);
    // Above the launcher, the panel closed: End chat's copy is on its way.
    sentNote = el('p', { 'class': 'notice sent', role: 'status', hidden: true });
    root = el('div', { 'class': 'root' }, [panel, sentNote, el('div', { 'class': 'row' }, [launcher])]);
    shadow.appendChild(root);
    applyLanguage();
    doc.body.appendChild(host);
  }

  var settings = {}, profile = {}, agentsOnline = true, queueInfo = null;
  // The server's limit on a message (webchat.max_message_chars; older servers do not say).
  function maxChars() { return settings.max_message_chars || 2000; }

  // "No agent online" matters only once the conversation waits for a person:
  // before that the bot answers, after it an agent has it.
  function offlineNow() { return !agentsOnline && convStatus[state.conv] === 'queued'; }

  // The customer wrote in another language: the whole panel follows.
  function switchLanguage(l) {
    lang = l;
    offlineBox.textContent = '';  // rebuilt in the new language
    Array.prototype.forEach.call(logEl.querySelectorAll('.msg.customer .who'), function (w) { w.textContent = t('you'); });
    Array.prototype.forEach.call(logEl.querySelectorAll('.msg[data-state]'), function (n) { mark(n, n.getAttribute('data-state')); });
    applyLanguage();
    renderOffline();
    renderQueue();
  }

  function applyLanguage() {
    root.setAttribute('dir', RTL[lang] ? 'rtl' : 'ltr');
    root.setAttribute('lang', lang);
    titleEl.textContent = settings.title || t('title');
    closeBtn.setAttribute('aria-label', t('close'));
    endBtn.textContent = t('end');
    logEl.setAttribute('aria-label', t('messages'));
    msgLabel.textContent = t('message');
    textarea.setAttribute('placeholder', t('placeholder'));
    sendBtn.textContent = t('send');
    labelAttach();
    renderVerify();
    updateLauncher();
    updateStatus();
  }

  // --- conversation view -------------------------------------------------------
  var convOrder = [];        // conversations in the order they were shown
  var lastSeq = {};          // conv → highest seq shown
  var convStatus = {};       // conv → conversation status
  var byKey = {};            // "conv:seq" → element
  var byClient = {};         // client id → element (own messages)
  var readSent = {}, deliveredSent = {};  // conv → the marks the server holds (welcome, then what we sent)
  var lastOutSeq = {};       // conv → seq of the last agent/bot message
  var sideOf = {};           // side conversation (a rating or comment that opened one) → the conversation it rated
  var unread = 0;

  function convIndex(conv) {
    var i = convOrder.indexOf(conv);
    if (i < 0) {
      convOrder.push(conv);
      i = convOrder.length - 1;
      if (i > 0) place(el('div', { 'class': 'sep', 'data-conv': conv, 'data-seq': '0', role: 'separator', text: t('newConv') }), conv, 0);
    }
    return i;
  }
  function order(node) {
    return [convOrder.indexOf(node.getAttribute('data-conv')), Number(node.getAttribute('data-seq'))];
  }
  // Keeps the log in (conversation, seq) order; unsent messages stay last.
  function place(node, conv, seq) {
    node.setAttribute('data-conv', conv);
    node.setAttribute('data-seq', String(seq));
    node.removeAttribute('data-pending');
    var mine = [convOrder.indexOf(conv), seq];
    var kids = logEl.children;
    for (var i = kids.length - 1; i >= 0; i--) {
      var k = kids[i];
      if (k === node || k.hasAttribute('data-pending')) continue;
      var o = order(k);
      if (o[0] < mine[0] || (o[0] === mine[0] && o[1] < mine[1])) {
        logEl.insertBefore(node, k.nextSibling);
        return;
      }
    }
    logEl.insertBefore(node, logEl.firstChild);
  }
  function atEnd() { return logEl.scrollHeight - logEl.scrollTop - logEl.clientHeight < 120; }
  function scrollDown(force) {
    if (force || atEnd()) logEl.scrollTop = logEl.scrollHeight;
  }
  function timeOf(ms) {
    try { return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' }).format(new Date(ms)); } catch (e) { return ''; }
  }

  // A text's direction by the script most of its letters are in: «Galaxy S23
  // شما تا ۱۸ ماه گارانتی دارد.» is right to left, though dir="auto" goes by
  // its first letter. null (no letters, a tie): the panel's. The console has
  // the same rule (textDir in web/console/js/views/dom.js; no shared file:
  // the widget is one script on other sites).
  function textDir(text) {
    var rtl = (text.match(/[\u0620-\u064A\u066E-\u06D3\u06FA-\u06FF]/g) || []).length;
    var ltr = (text.match(/[A-Za-z\u00C0-\u024F]/g) || []).length;
    return rtl > ltr ? 'rtl' : ltr > rtl ? 'ltr' : null;
  }
  // Digits with spaces, dashes, slashes, dots or colons inside («0912 345 6789»,
  // «۴۵۸۷-۲۲۳۱», «+966 50 123 4567») read left to right in an isolate: after
  // Persian or Arabic letters the bidi algorithm would reverse the groups. Only
  // the display: the text stays as written. Each group is an isolate of its
  // own too: Arabic-Indic digits (٤٥٦٧ ٨٩٠١) keep the space between them right
  // to left even in an LTR isolate. The console has the same rule (ltrNumbers
  // in web/console/js/views/dom.js).
  var DIGITS = '[0-9\u0660-\u0669\u06F0-\u06F9]+';
  var NUMBER_RUN = new RegExp('\\+?' + DIGITS + '(?:[ \\-/.:\u066B\u066C]' + DIGITS + ')+', 'g');
  function ltrNumbers(node, text) {
    var at = 0;
    text.replace(NUMBER_RUN, function (run, i) {
      node.appendChild(doc.createTextNode(text.slice(at, i)));
      node.appendChild(el('bdi', { dir: 'ltr' }, run.split(new RegExp('(' + DIGITS + ')')).map(function (part, k) {
        return k % 2 ? el('bdi', { text: part }) : part ? doc.createTextNode(part) : null;
      })));
      at = i + run.length;
    });
    node.appendChild(doc.createTextNode(text.slice(at)));
    return node;
  }
  function bubble(author, name, text, at) {
    var who = author === 'customer' ? t('you') : author === 'system' ? '' : (name || t(author === 'bot' ? 'bot' : 'agent'));
    // Its language when its letters tell (a screen reader's voice), else the panel's.
    var node = el('div', { 'class': 'msg ' + author, 'data-author': author, lang: detectLanguage(text) || null }, [
      who ? el('div', { 'class': 'who', text: who }) : null,
      ltrNumbers(el('div', { 'class': 'text', dir: textDir(text) }), text),   // text nodes only: markup shows as text
      el('div', { 'class': 'meta' }, [el('time', { text: at ? timeOf(at) : '' }), el('span', { 'class': 'mark' })])
    ]);
    return node;
  }
  function mark(node, what) {
    node.setAttribute('data-state', what);
    node.classList.toggle('failed', what === 'failed');
    var m = node.querySelector('.mark');
    m.textContent = '';
    // Read out as words ("Seen"), not "✓✓".
    m.appendChild(el('span', { 'aria-hidden': 'true', text: { sending: ' 🕓', sent: ' ✓', read: ' ✓✓', failed: ' ⚠' }[what] || '' }));
    m.appendChild(el('span', { 'class': 'sr', text: t(what) }));
    m.setAttribute('title', t(what));
  }

  function onEvent(f) {
    var conv = f.conv, seq = f.seq, key = conv + ':' + seq;
    if (inSide(conv, f.message && f.message.client_id)) return;
    convIndex(conv);
    if (seq > (lastSeq[conv] || 0)) lastSeq[conv] = seq;
    if (f.status) convStatus[conv] = f.status;
    if (conv !== state.conv && convOrder[convOrder.length - 1] === conv) { state.conv = conv; persist(); }
    if (byKey[key]) return;
    if (f.event === 'message' && f.message) {
      var m = f.message, node = m.client_id && byClient[m.client_id];
      if (node) {
        mark(node, 'sent');
        forgetOutbox(m.client_id);
      } else {
        node = bubble(m.author, m.name, m.erased ? t('removed') : m.text, m.at);
        if (m.erased) node.classList.add('erased');
        if (m.client_id) { node.setAttribute('data-client-id', m.client_id); byClient[m.client_id] = node; mark(node, 'sent'); }
        showFiles(node, m.attachments);
      }
      if (m.author === 'customer') node.querySelector('time').textContent = timeOf(m.at);
      byKey[key] = node;
      place(node, conv, seq);
      if (m.author === 'customer') disableChoices(node);  // answered (a replay after a reload too)
      if (m.author !== 'customer') {
        lastOutSeq[conv] = seq;
        typingEl.textContent = '';
        // An answer means everything before it was read.
        Object.keys(byClient).forEach(function (c) {
          var n = byClient[c];
          if (n.getAttribute('data-conv') === conv && Number(n.getAttribute('data-seq')) < seq) mark(n, 'read');
        });
        if (m.buttons && m.buttons.length) addChoices(node, m.buttons);
        // Replayed (a reconnect, another page): unread if after the read mark.
        if ((!live || panel.hidden || doc.visibilityState !== 'visible') && (!replaying || seq > (readSent[conv] || 0))) {
          unread++;
          updateLauncher();
          if (doc.visibilityState !== 'visible') titleCount(1);
        }
        sendSeen(conv);
      }
      // An agent writing now is the surest sign one is online (old ones in a replay are not).
      if (m.author === 'agent') { queueInfo = null; if (!replaying) agentsOnline = true; }
    } else if (f.event === 'csat' || f.event === 'csat_comment') {
      showRating(conv, seq, f);
    } else if (f.event === 'status' && (f.status === 'resolved' || f.status === 'closed')) {
      var notice = el('div', { 'class': 'msg system', 'data-author': 'system', role: 'note' }, [el('div', { 'class': 'text', dir: 'auto', text: t('resolved') })]);
      byKey[key] = notice;
      place(notice, conv, seq);
      disableChoices();
    }
    updateStatus();
    renderOffline();
    renderQueue();
  }

  // The customer's rating, and a comment that only thanks or complains, in the
  // conversation it rates. A message that opened a (closed) side conversation
  // moves there, and the side conversation leaves the log: no "new
  // conversation", no "resolved", not the current one.
  function showRating(conv, seq, f) {
    var comment = f.event === 'csat_comment';
    disableChoices();
    if (!f.via) return;  // the rating message is in this conversation's own log
    sideOf[f.via] = conv;
    var node = null;
    Array.prototype.slice.call(logEl.children).forEach(function (n) {
      if (n.getAttribute('data-conv') !== f.via) return;
      if (!node && n.getAttribute('data-author') === 'customer') node = n; else n.remove();
    });
    if (!node) {  // after a reload: only the rated conversation is replayed
      node = bubble('customer', '', !comment ? ratingText(conv, f.rating) : f.erased ? t('removed') : f.comment, f.at);
      if (f.erased) node.classList.add('erased');
      mark(node, 'sent');
    }
    byKey[conv + ':' + seq] = node;
    place(node, conv, seq);
    var at = convOrder.indexOf(f.via);
    if (at >= 0) convOrder.splice(at, 1);
    if (state.conv === f.via) { state.conv = conv; persist(); }
  }
  // As its button said it: csat:<conv>:N, or csat:N on a survey sent before
  // buttons named their conversation.
  function ratingText(conv, rating) {
    var chosen = logEl.querySelectorAll('.choices button[data-id="csat:' + conv + ':' + rating + '"], ' +
      '.choices button[data-id="csat:' + rating + '"]');
    return chosen.length ? chosen[chosen.length - 1].textContent : num(rating);
  }
  // A frame of a side conversation: its rating or comment is shown in the rated
  // one (a copy still pending, sent before the rating was known, goes).
  function inSide(conv, clientId) {
    if (!sideOf[conv]) return false;
    var node = clientId && byClient[clientId];
    if (node && node.getAttribute('data-conv') !== sideOf[conv]) node.remove();
    if (clientId) forgetOutbox(clientId);
    return true;
  }

  function addChoices(node, buttons) {
    var group = el('div', { 'class': 'choices', role: 'group', 'aria-label': t('choices') });
    buttons.forEach(function (b) {
      group.appendChild(el('button', { type: 'button', text: b.title, 'data-id': b.id, onclick: function () {
        disableChoices();
        send(b.title, b.id);
      } }));
    });
    node.appendChild(group);
  }
  // All of them, or those before `node`.
  function disableChoices(node) {
    Array.prototype.forEach.call(logEl.querySelectorAll('.choices button'), function (b) {
      if (!node || node.compareDocumentPosition(b) & 2) b.disabled = true;
    });
  }

  // --- the connection ------------------------------------------------------------
  var PING_EVERY_MS = 25000, ANSWER_WITHIN_MS = 10000;
  var ws = null, live = false, replaying = false, attempt = 0, retryTimer = 0, pingTimer = 0, answerTimer = 0;
  var lastError = '', everConnected = false, sessionPromise = null, typingShownTimer = 0;
  var generation = 0;  // one more at End chat: an answer for the visitor before is dropped
  var endedTokens = {};  // chats ended here: another tab's late save must not revive them

  function setBanner(text) { banner.textContent = text || ''; banner.hidden = !text; }
  function updateStatus() {
    if (!subEl) return;
    subEl.textContent = live ? (offlineNow() ? t('offline') : t('online')) : (state.token ? t('connecting') : '');
    endBtn.hidden = !state.token;  // nothing to forget yet
  }
  function updateLauncher() {
    launcherLabel.textContent = t('open');
    badge.textContent = num(unread);
    badge.hidden = !unread;
    launcher.setAttribute('aria-label', t('open') + (unread ? ' (' + t('unread', { n: num(unread) }) + ')' : ''));
  }
  // On another tab, the page's title counts the replies: "(2) Shop". Back, as it was.
  var pageTitle = null, titleUnread = 0;
  function titleCount(more) {
    if (pageTitle === null && more) pageTitle = doc.title;
    if (pageTitle === null) return;
    titleUnread = more ? titleUnread + 1 : 0;
    doc.title = more ? '(' + num(titleUnread) + ') ' + pageTitle : pageTitle;
    if (!more) pageTitle = null;
  }
  function showAlert(text) {
    alertEl.textContent = text || '';
    alertEl.hidden = !text;
  }

  function ensureSession() {
    var now = Date.now();
    if (state.token && state.expiresAt > now + 60000) {
      // Renew quietly past half of its life.
      if (state.issuedAt && now - state.issuedAt > (state.expiresAt - state.issuedAt) / 2) requestSession(state.token).catch(function () {});
      return Promise.resolve(state.token);
    }
    return requestSession('');
  }
  function requestSession(token) {
    if (sessionPromise) return sessionPromise;
    var body = { channel: CHANNEL }, gen = generation;
    if (token) body.token = token;
    sessionPromise = fetch(SERVER + '/api/v1/webchat/sessions', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'omit', mode: 'cors'
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (j) {
        // A renewal that was on its way at End chat must not store the forgotten visitor again.
        if (gen !== generation) throw new Error('ended');
        if (res.status === 401 && token) { sessionPromise = null; state.token = ''; persist(); return requestSession(''); }
        if (!res.ok) { var e = new Error((j.error && j.error.code) || 'http_' + res.status); e.status = res.status; throw e; }
        state.token = j.token;
        state.expiresAt = j.expires_at;
        state.issuedAt = Date.now();
        settings = j.settings || settings;
        profile = j.profile || profile;
        persist();
        return j.token;
      });
    });
    var p = sessionPromise, done = function () { if (sessionPromise === p) sessionPromise = null; };
    p.then(done, done);
    return p;
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (ws) return;
    var gen = generation;
    ensureSession().then(function (token) {
      if (ws || gen !== generation) return;
      lastError = '';
      var sock = ws = new WebSocket(WS_URL);
      expectAnswer(sock);  // the welcome
      sock.onopen = function () {
        var after = state.conv && lastSeq[state.conv] ? lastSeq[state.conv] : 0;
        var hello = { type: 'hello', v: 1, token: token, lang: lang };
        if (state.conv) { hello.conv = state.conv; hello.after = after; }
        sock.send(JSON.stringify(hello));
        replaying = true;
      };
      sock.onmessage = function (e) {
        if (ws !== sock) return;  // dropped as dead: a newer socket took over
        clearTimeout(answerTimer);
        answerTimer = 0;
        var f;
        try { f = JSON.parse(e.data); } catch (x) { return; }
        onFrame(f);
      };
      // The reason is the error code when the server closed it (README: close
      // codes); an error that keeps the socket (a message sent too fast) must
      // not make a later, unrelated reconnect wait for it.
      sock.onclose = function (e) { if (ws === sock) { lastError = e.reason || ''; lost(); } };
    }).catch(function (err) {
      if (gen !== generation) return;
      attempt++;
      if (err && err.status === 429) showAlert(t('closed'));
      setBanner(t(everConnected ? 'reconnecting' : 'connecting'));
      retryTimer = setTimeout(connect, err && err.status === 429 ? 60000 : Math.min(30000, 1000 * Math.pow(2, attempt)));
    });
  }

  // The socket is gone (closed, or dropped as dead): reconnect after a backoff.
  function lost() {
    ws = null;
    live = false;
    replaying = false;
    clearInterval(pingTimer);
    clearTimeout(answerTimer);
    answerTimer = 0;
    updateStatus();
    var delay;
    if (lastError === 'too_many_sockets') {
      // A newer tab of this visitor took this one's place: no retry of its
      // own (two tabs would take turns closing each other); resumeHere.
      setBanner(t('elsewhere'));
      return;
    }
    if (lastError === 'token_expired' || lastError === 'token_invalid') {
      state.token = ''; persist(); delay = 100;
    } else if (lastError === 'rate_limited') {
      delay = 60000;
    } else {
      delay = Math.min(30000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
    }
    attempt++;
    if (everConnected || attempt > 1) setBanner(t('reconnecting'));
    retryTimer = setTimeout(connect, delay);
  }

  // A connection that died silently (laptop sleep, another Wi-Fi) looks open:
  // no frame within 10 s of a ping, a message or the connect, and it is given
  // up at once; its closing handshake could take another minute.
  function expectAnswer(sock) {
    if (answerTimer) return;
    answerTimer = setTimeout(function () {
      answerTimer = 0;
      if (ws !== sock) return;
      try { sock.close(); } catch (e) { /* already closing */ }
      lost();
    }, ANSWER_WITHIN_MS);
  }
  function probe() {
    if (ws && live && sendFrame({ type: 'ping' })) expectAnswer(ws);
  }
  // Back online, or back to the tab: an open connection proves it is alive;
  // one waiting out its backoff is tried at once.
  function checkConnection() {
    if (resumeHere(false)) return;
    if (ws) probe();
    else if (retryTimer && lastError !== 'rate_limited') { attempt = 0; connect(); }
  }

  // Closed for a newer tab: connects again when the customer comes back to this
  // one (the tab shows, the window gets focus) or clicks the notice.
  function resumeHere(clicked) {
    if (ws || lastError !== 'too_many_sockets' || (!clicked && doc.visibilityState !== 'visible')) return false;
    attempt = 0;
    connect();
    return true;
  }

  function sendFrame(obj) {
    if (!ws || ws.readyState !== 1 || !live) return false;
    if (obj.type === 'message') withUploads(obj);
    ws.send(JSON.stringify(obj));
    return true;
  }

  // Notices above the log take height from it: whoever was at the end stays there.
  function onFrame(f) {
    var end = atEnd();
    dispatch(f);
    if (end) scrollDown(true);
  }
  function dispatch(f) {
    switch (f.type) {
      case 'welcome':
        live = true;
        attempt = 0;
        everConnected = true;
        setBanner('');
        settings = f.settings || {};
        profile = f.profile || {};
        agentsOnline = f.agents_online !== false;
        readSent = f.customer_read_seq || {};  // the read marks the server holds
        applyLanguage();
        if (profile.email_proved && state.verify && state.verify.email === profile.email) { state.verify = null; persist(); }
        renderOffline();
        renderPrechat();
        renderVerify();
        clearInterval(pingTimer);
        pingTimer = setInterval(probe, PING_EVERY_MS);
        break;
      case 'synced': afterReplay(); break;  // the replay after welcome is complete
      case 'event': onEvent(f); break;
      case 'ack': onAck(f); break;
      case 'queue': onQueue(f); break;
      case 'typing':
        if (f.who === 'agent') typingEl.textContent = f.state ? t('typing', { name: f.name || t('agent') }) : '';
        if (f.who === 'agent' && f.state && !agentsOnline) { agentsOnline = true; updateStatus(); renderOffline(); renderQueue(); }
        clearTimeout(typingShownTimer);
        typingShownTimer = setTimeout(function () { typingEl.textContent = ''; }, 8000);
        break;
      case 'contact_saved':
        if (f.email && f.email !== profile.email) profile.email_proved = false;
        profile.email = f.email || profile.email;
        profile.name = f.name || profile.name;
        prechatBox.hidden = true;
        if (f.verification_sent) codeSent(profile.email);
        else if (askedNewCode) verifyNote = { key: 'codeLater', again: true };
        askedNewCode = false;
        renderVerify();
        renderOffline(true);
        textarea.disabled = false;
        if (!panel.hidden) textarea.focus();
        break;
      case 'email_verified':
        state.verify = null;
        persist();
        profile.email_proved = true;
        verifyNote = { key: 'verified', email: f.email || profile.email };
        codeInput.value = '';
        renderVerify();
        renderOffline();
        break;
      case 'error': onError(f); break;
    }
  }

  function afterReplay() {
    replaying = false;
    var keep = [];
    state.outbox.forEach(function (item) {
      var node = byClient[item.client_id];
      if (node && node.hasAttribute('data-seq') && !node.hasAttribute('data-pending')) { done[item.client_id] = true; return; }  // stored before the reload
      if (!node) pending(item);
      keep.push(item);
      sendFrame({ type: 'message', client_id: item.client_id, text: item.text, button: item.button || undefined, lang: item.lang });
    });
    state.outbox = keep;
    persist();
    sendSeen(state.conv);
    scrollDown(true);
  }

  function onAck(f) {
    var node = byClient[f.client_id];
    forgetOutbox(f.client_id);
    // The server read Persian or Arabic where the letters alone did not tell
    // (and its bot answers in that language): the panel follows it.
    if (supported(f.lang) && f.lang !== lang) { state.lang = f.lang; persist(); switchLanguage(f.lang); }
    if (!node || inSide(f.conv, f.client_id)) return;
    convIndex(f.conv);
    if (!byKey[f.conv + ':' + f.seq]) { byKey[f.conv + ':' + f.seq] = node; place(node, f.conv, f.seq); }
    if (node.getAttribute('data-state') !== 'read') mark(node, 'sent');
    if (f.seq > (lastSeq[f.conv] || 0)) lastSeq[f.conv] = f.seq;
    if (f.conv !== state.conv) { state.conv = f.conv; persist(); }
  }

  function onQueue(f) {
    if (f.status) convStatus[f.conv] = f.status;
    agentsOnline = f.agents_online !== false;
    queueInfo = f;
    updateStatus();
    renderOffline();
    renderQueue();
  }
  function renderQueue() {
    var f = queueInfo;
    queueBox.hidden = !(f && f.position > 0 && convStatus[f.conv] === 'queued');
    if (queueBox.hidden) return;
    // Nobody online: minutes would be a promise nobody keeps.
    var wait = !agentsOnline ? t('later') : f.estimated_wait_s ? t('wait', { m: num(Math.max(1, Math.round(f.estimated_wait_s / 60))) }) : '';
    queueBox.textContent = t('queue', { n: num(f.position) }) + (wait ? ' ' + wait : '');
  }

  function onError(f) {
    if (uploadError(f) || codeError(f)) return;
    var node = f.client_id && byClient[f.client_id];
    if (f.code === 'too_long' && node && !textarea.value) {
      // Back in the box to be shortened, not lost in a failed bubble.
      textarea.value = node.querySelector('.text').textContent;
      onInput();
      node.remove();
      delete byClient[f.client_id];
      forgetOutbox(f.client_id);
      showAlert(t('tooLong', { n: num(maxChars()) }));
    } else if (f.code === 'too_long' || f.code === 'empty_text' || f.code === 'bad_text' || f.code === 'bad_frame') {
      if (node) mark(node, 'failed');
      forgetOutbox(f.client_id);
      showAlert(f.code === 'too_long' ? t('tooLong', { n: num(maxChars()) }) : f.message);
    } else if (f.code === 'rate_limited') {
      showAlert(t('rate'));
      // Kept in the outbox: sent again once the minute is over.
      if (f.client_id) setTimeout(resend, ((f.retry_after_s || 30) + 1) * 1000);
    } else if (f.code === 'unavailable') {
      if (f.client_id) setTimeout(resend, 3000);
      showAlert(t('retry'));
    } else if (f.code === 'bad_email' || f.code === 'bad_contact') {
      showAlert(t('badEmail'));
    }
  }

  function resend() {
    state.outbox.forEach(function (item) {
      sendFrame({ type: 'message', client_id: item.client_id, text: item.text, button: item.button || undefined, lang: item.lang });
    });
  }
  function forgetOutbox(clientId) {
    done[clientId] = true;
    var before = state.outbox.length;
    state.outbox = state.outbox.filter(function (i) { return i.client_id !== clientId; });
    if (state.outbox.length !== before) persist();
  }

  function sendSeen(conv) {
    if (!conv || !live || replaying) return;
    var seq = lastOutSeq[conv];
    if (!seq) return;
    var read = !panel.hidden && doc.visibilityState === 'visible';
    if (seq <= (deliveredSent[conv] || 0) && (!read || seq <= (readSent[conv] || 0))) return;
    if (sendFrame({ type: 'seen', conv: conv, seq: seq, read: read })) {
      deliveredSent[conv] = seq;
      if (read) { readSent[conv] = seq; unread = 0; updateLauncher(); }
    }
  }

  // --- proving the email: the code we mailed, typed here ----------------------------
  // The server takes only this visitor's pending code, 5 tries, for 30 minutes
  // (gateway/include/pasokh/gateway/webchat_verify.hpp); the box stays that
  // long, after a reload too.
  var verifyNote = null, askedNewCode = false;  // the answer to the last code typed: {key, n?, email?, again?}
  function asciiDigits(s) {
    return s.replace(/[\u06F0-\u06F9\u0660-\u0669]/g, function (d) { return String(d.charCodeAt(0) & 15); });
  }
  function codeSent(email) {
    state.verify = { email: email, until: Date.now() + 30 * 60000 };
    verifyNote = null;
    persist();
  }
  function sendCode() {
    var code = asciiDigits(codeInput.value).replace(/[\s-]/g, '');
    if (!/^\d{6}$/.test(code)) verifyNote = { key: 'badCode' };
    else if (!sendFrame({ type: 'verify_email', code: code })) { showAlert(t('retry')); connect(); }
    renderVerify();
  }
  function askNewCode() {
    askedNewCode = true;
    if (!sendFrame({ type: 'contact', email: profile.email })) connect();
  }
  function codeError(f) {
    if (f.code === 'wrong_code' && f.tries_left > 0) verifyNote = { key: 'wrongCode', n: f.tries_left };
    else if (f.code === 'wrong_code' || f.code === 'code_expired') {
      state.verify = null;
      persist();
      verifyNote = { key: f.code === 'wrong_code' ? 'codeVoid' : 'codeExpired', again: true };
    } else if (f.code === 'bad_code') verifyNote = { key: 'badCode' };
    else return false;
    codeInput.select();
    renderVerify();
    return true;
  }
  function renderVerify() {
    var v = state.verify, note = verifyNote;
    verifyBox.hidden = !v && !note;
    verifyText.textContent = v ? t('verify', { email: v.email }) : '';
    verifyText.hidden = !v;
    // In the page only while a code is waiting (a hidden form is still a form to the page's scripts).
    if (v && !codeForm.parentNode) verifyBox.insertBefore(codeForm, verifyStatus);
    if (!v && codeForm.parentNode) codeForm.remove();
    codeLabel.textContent = t('code');
    codeBtn.textContent = t('confirm');
    verifyStatus.textContent = note ? t(note.key, { n: num(note.n), email: note.email }) : '';
    newCodeBtn.textContent = t('newCode');
    newCodeBtn.hidden = !(note && note.again && profile.email);
  }

  // --- files (a photo of the fault, of the serial label, the invoice) ---------------
  // Uploaded with the visitor token, then sent as a message naming the upload.
  var FILE_STRINGS = {
    en: { attach: 'Attach a photo or PDF', uploading: 'Uploading…', fileTooBig: 'This file is too large (at most {mb} MB).',
      fileType: 'Only photos (JPEG, PNG, WebP, HEIC) and PDF files can be sent.', fileFailed: 'The file was not sent. Please attach it again.',
      notSent: '«{name}» was not sent.', tryAgain: 'Try again' },
    fa: { attach: 'پیوست عکس یا PDF', uploading: 'در حال بارگذاری…', fileTooBig: 'این فایل خیلی بزرگ است (حداکثر {mb} مگابایت).',
      fileType: 'فقط عکس (JPEG، PNG، WebP، HEIC) و PDF را می‌توان فرستاد.', fileFailed: 'فایل فرستاده نشد. لطفاً دوباره پیوست کنید.',
      notSent: '«{name}» فرستاده نشد.', tryAgain: 'دوباره بفرست' },
    ar: { attach: 'إرفاق صورة أو PDF', uploading: 'جارٍ الرفع…', fileTooBig: 'هذا الملف كبير جدًا (الحد {mb} ميغابايت).',
      fileType: 'يمكن إرسال الصور (JPEG وPNG وWebP وHEIC) وملفات PDF فقط.', fileFailed: 'لم يُرسل الملف. يرجى إرفاقه مجددًا.',
      notSent: 'لم يُرسل «{name}».', tryAgain: 'أعد المحاولة' }
  };
  Object.keys(FILE_STRINGS).forEach(function (l) { Object.assign(STRINGS[l], FILE_STRINGS[l]); });
  CSS += '\n.attach{border:1px solid #7b8794;border-radius:8px;background:#fff;padding:7px 9px;font:inherit;cursor:pointer;line-height:1}' +
    '\n.files img{max-width:200px;max-height:160px;border-radius:8px;display:block;margin-top:4px}' +
    '\n.files button,.again{border:0;background:none;color:#0b5cab;text-decoration:underline;font:inherit;cursor:pointer;padding:0}';
  var attachBtn, fileInput;
  var localFiles = {};  // upload id -> the File this browser sent: its thumbnail needs no download

  function maxUpload() { return settings.max_upload_bytes || 0; }
  function tooBig() { return t('fileTooBig', { mb: num(Math.floor(maxUpload() / 1048576)) }); }
  function addAttach(composer, box) {
    fileInput = el('input', { type: 'file', hidden: true, multiple: true, accept: 'image/jpeg,image/png,image/webp,image/heic,.heic,application/pdf',
      onchange: function () { sendFiles(fileInput.files); fileInput.value = ''; } });
    attachBtn = el('button', { type: 'button', 'class': 'attach', onclick: function () { fileInput.click(); } }, [el('span', { 'aria-hidden': 'true', text: '📎' })]);
    composer.insertBefore(attachBtn, box);
    composer.appendChild(fileInput);
    // A pasted or dropped file goes as if picked.
    box.addEventListener('paste', function (e) { if (maxUpload() && e.clipboardData.files.length) { e.preventDefault(); sendFiles(e.clipboardData.files); } });
    box.addEventListener('drop', function (e) { if (maxUpload() && e.dataTransfer.files.length) { e.preventDefault(); sendFiles(e.dataTransfer.files); } });
  }
  function labelAttach() {
    attachBtn.setAttribute('aria-label', t('attach'));
    attachBtn.setAttribute('title', t('attach'));
    attachBtn.hidden = !maxUpload();
  }
  function sendFiles(files) {
    Array.prototype.forEach.call(files, function (file) {
      // HEIC often comes without a type; the server checks the bytes anyway.
      if (file.type && !/^(image\/(jpeg|png|webp|heic|heif)|application\/pdf)$/.test(file.type)) showAlert(t('fileType'));
      else if (file.size > maxUpload()) showAlert(tooBig());
      else queueUpload({ file: file });
    });
  }
  // Two at a time: the server reads at most 4 uploads per address at once
  // (more phones may share it behind a NAT) and answers the rest 503 busy.
  var uploadQueue = [], uploadsRunning = 0, failedUploads = [];
  function queueUpload(job) {
    var at = failedUploads.indexOf(job);
    if ((job.retried = at >= 0)) failedUploads.splice(at, 1);
    var node = job.node = job.node || bubble('customer', '', job.file.name, Date.now());
    node.setAttribute('data-pending', '');
    node.classList.remove('failed');
    node.removeAttribute('data-state');
    node.querySelector('.mark').textContent = ' ' + t('uploading');
    var again = node.querySelector('.again');
    if (again) again.remove();
    if (!node.parentNode) { logEl.appendChild(node); scrollDown(true); }
    job.tries = 0;
    uploadQueue.push(job);
    nextUpload();
  }
  function nextUpload() {
    while (uploadsRunning < 2 && uploadQueue.length) { uploadsRunning++; upload(uploadQueue.shift()); }
  }
  function upload(job) {
    var file = job.file, node = job.node, gen = generation;
    var release = function () { if (gen === generation) { uploadsRunning--; nextUpload(); } };
    job.tries++;
    ensureSession().then(function (token) {
      return fetch(SERVER + '/api/v1/webchat/uploads?name=' + encodeURIComponent(file.name), { method: 'POST', body: file, credentials: 'omit',
        mode: 'cors', headers: { authorization: 'Bearer ' + token, 'content-type': file.type || 'application/octet-stream' } });
    }).then(function (res) {
      // Busy, or too many at once: again after Retry-After (exposed to the page; 5 s if absent), 4 tries.
      var wait = Number(res.headers.get('retry-after') || 5);
      if ((res.status === 503 || res.status === 429) && job.tries < 4 && wait <= 30) {
        setTimeout(function () { if (gen === generation) upload(job); }, wait * 1000);
        return;
      }
      return res.json().catch(function () { return {}; }).then(function (j) {
        release();
        if (res.ok) {
          node.remove();
          // The alert goes with the last one failed.
          if (job.retried) showAlert(failedUploads.length ? notSent(failedUploads[failedUploads.length - 1]) : '');
          localFiles[j.id] = file;
          send('', '', [{ id: j.id, name: j.name, mime_type: j.mime_type, size: j.size, kind: j.kind }]);
        } else if (res.status === 413 || res.status === 415) {
          node.remove();
          showAlert(res.status === 413 ? tooBig() : t('fileType'));
        } else uploadFailed(job);
      });
    }).catch(function () { release(); uploadFailed(job); });
  }
  // Stays in the log, named, with a retry, until sent: a later upload or message does not hide it.
  function uploadFailed(job) {
    mark(job.node, 'failed');
    job.node.querySelector('.meta').appendChild(el('button', { type: 'button', 'class': 'again', text: t('tryAgain'),
      onclick: function () { queueUpload(job); } }));
    failedUploads.push(job);
    showAlert(notSent(job));
  }
  function notSent(job) { return t('notSent', { name: job.file.name }); }
  // Photos as thumbnails; a PDF (or HEIC) saved when clicked, never opened as a page here.
  function showFiles(node, files) {
    if (!files || !files.length || node.querySelector('.files')) return;
    var box = el('div', { 'class': 'files' });
    files.forEach(function (f) {
      var name = f.name || f.kind;
      if (/^image\/(jpeg|png|webp)$/.test(f.mime_type)) {
        (localFiles[f.id] ? Promise.resolve(localFiles[f.id]) : fetchFile(f.id))
          .then(function (blob) { box.appendChild(el('img', { src: URL.createObjectURL(blob), alt: name })); },
          function () { box.appendChild(el('div', { text: name })); });
      } else {
        box.appendChild(el('button', { type: 'button', text: '📄 ' + name, onclick: function () {
          fetchFile(f.id).then(function (blob) {
            el('a', { href: URL.createObjectURL(new Blob([blob], { type: 'application/octet-stream' })), download: name }).click();
          });
        } }));
      }
    });
    node.querySelector('.text').hidden = !node.querySelector('.text').textContent;
    node.insertBefore(box, node.querySelector('.meta'));
  }
  function fetchFile(id) {
    return ensureSession().then(function (token) {
      return fetch(SERVER + '/api/v1/webchat/uploads/' + encodeURIComponent(id), { headers: { authorization: 'Bearer ' + token }, credentials: 'omit', mode: 'cors' });
    }).then(function (res) { if (!res.ok) throw new Error(res.status); return res.blob(); });
  }
  // Every message frame of an outbox item names its uploads (first send, resend, after a reload).
  function withUploads(frame) {
    state.outbox.forEach(function (i) { if (i.client_id === frame.client_id && i.uploads) frame.uploads = i.uploads.map(function (u) { return u.id; }); });
  }
  // An upload this message may not name (expired, sent already): nothing to resend.
  function uploadError(f) {
    if (f.code !== 'bad_upload') return false;
    if (byClient[f.client_id]) mark(byClient[f.client_id], 'failed');
    forgetOutbox(f.client_id);
    showAlert(t('fileFailed'));
    return true;
  }

  // --- writing ---------------------------------------------------------------------
  function newClientId() {
    var b = new Uint8Array(9);
    crypto.getRandomValues(b);
    return 'c' + Date.now().toString(36) + '-' + Array.prototype.map.call(b, function (x) { return (x & 15).toString(16) + (x >> 4).toString(16); }).join('');
  }
  function pending(item) {
    var node = bubble('customer', '', item.text, Date.now());
    node.setAttribute('data-client-id', item.client_id);
    node.setAttribute('data-pending', '');
    byClient[item.client_id] = node;
    mark(node, 'sending');
    showFiles(node, item.uploads);
    logEl.appendChild(node);
    return node;
  }
  function send(text, buttonId, uploads) {
    text = text.trim();
    if (!text && !uploads) return false;
    if (codePoints(text) > maxChars()) { showAlert(t('tooLong', { n: num(maxChars()) })); return false; }
    if (!uploads) showAlert('');  // a file sent says nothing about one that failed
    // Typed text only: a tapped choice is in the bot's language, not the customer's.
    var said = buttonId ? '' : detectLanguage(text);
    if (said) state.lang = said;
    if (said && said !== lang) switchLanguage(said);
    var item = { client_id: newClientId(), text: text, lang: lang };
    if (buttonId) item.button = buttonId;
    if (uploads) item.uploads = uploads;
    state.outbox.push(item);
    mine[item.client_id] = true;
    persist();
    pending(item);
    scrollDown(true);
    disableChoices();
    stopTyping();
    if (sendFrame({ type: 'message', client_id: item.client_id, text: item.text, button: buttonId || undefined, lang: lang })) expectAnswer(ws);
    else connect();
    return true;
  }
  function submit() {
    if (send(textarea.value)) { textarea.value = ''; onInput(); }
    textarea.focus();
  }
  function onKey(e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  }
  var typingSentAt = 0, typingTimer = 0;
  function onInput() {
    var n = codePoints(textarea.value), max = maxChars();
    countEl.hidden = n < max - Math.min(200, max / 10);
    countEl.textContent = t('left', { n: num(max - n) });
    sendBtn.disabled = n > max;
    var dir = textDir(textarea.value);
    if (dir) textarea.setAttribute('dir', dir); else textarea.removeAttribute('dir');
    textarea.style.height = 'auto';
    textarea.style.height = Math.min(textarea.scrollHeight + 2, 120) + 'px';
    if (!textarea.value) { stopTyping(); return; }
    if (Date.now() - typingSentAt > 3000 && sendFrame({ type: 'typing', state: true })) typingSentAt = Date.now();
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 4000);
  }
  function stopTyping() {
    clearTimeout(typingTimer);
    if (typingSentAt) { sendFrame({ type: 'typing', state: false }); typingSentAt = 0; }
  }

  // --- forms: pre-chat and "continue by email" ------------------------------------
  function field(id, label, type, required, value) {
    var input = el('input', { id: id, type: type, required: required, autocomplete: type === 'email' ? 'email' : 'name', dir: 'auto' });
    input.value = value || '';
    return [el('label', { 'for': id, text: label + (required ? '' : ' ' + t('optional')) }), input];
  }
  function contactForm(box, withName, intro, submitLabel) {
    var uid = 'pf' + Math.random().toString(36).slice(2, 8);
    var name = withName ? field(uid + 'n', t('name'), 'text', false, profile.name) : [];
    var email = field(uid + 'e', t('email'), 'email', !withName || !!settings.require_email, profile.email);
    // Email only (no agent online): one row, so the log keeps most of the panel.
    if (!withName) { email[0].className = 'sr'; email[1].setAttribute('placeholder', t('email')); }
    var form = el('form', { novalidate: true, 'class': withName ? null : 'inline', onsubmit: function (e) {
      e.preventDefault();
      var frame = { type: 'contact', email: email[1].value.trim() };
      if (withName) frame.name = name[1].value.trim();
      if ((frame.email || email[1].required) && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(frame.email)) { showAlert(t('badEmail')); email[1].focus(); return; }
      showAlert('');
      if (!frame.email && !frame.name) {  // all optional and left empty: just chat
        box.hidden = true;
        textarea.disabled = false;
        textarea.focus();
        return;
      }
      if (!sendFrame(frame)) connect();
    } }, name.concat(email, [el('button', { type: 'submit', 'class': 'primary', text: submitLabel })]));
    box.textContent = '';
    box.appendChild(el('p', { text: intro }));
    box.appendChild(form);
    return form;
  }
  function renderPrechat() {
    var need = settings.pre_chat_form && !profile.name && !profile.email;
    prechatBox.hidden = !need;
    textarea.disabled = !!need;
    if (need) {
      contactForm(prechatBox, true, t('prechat'), t('start'));
      if (!panel.hidden) prechatBox.querySelector('input').focus();
    }
  }
  function renderOffline(justSaved) {
    var show = offlineNow() && settings.offline_email !== false;
    offlineBox.hidden = !show;
    if (!show) return;
    // Unread replies are mailed only to a proved address (a link confirmed,
    // a mail of theirs): until then the note promises this chat, not email.
    if (profile.email && profile.email_proved) {
      offlineBox.textContent = justSaved ? t('saved', { email: profile.email }) : t('offlineKnown', { email: profile.email });
    } else if (profile.email) {
      offlineBox.textContent = t('offlineHere');
    } else if (!offlineBox.querySelector('form')) {
      contactForm(offlineBox, false, t('offlineOffer'), t('save'));
    }
    offlineBox.setAttribute('role', 'status');
  }

  // --- open / close ----------------------------------------------------------------
  function setOpen(open, byUser) {
    panel.hidden = !open;
    launcher.setAttribute('aria-expanded', String(open));
    state.open = open;
    persist();
    if (open) {
      showSent('');
      connect();
      unread = 0;
      updateLauncher();
      sendSeen(state.conv);
      scrollDown(true);
      var first = prechatBox.hidden ? textarea : prechatBox.querySelector('input');
      // Not on a touch screen: the keyboard would cover the history opened to be read.
      if (byUser && first && !win.matchMedia('(pointer:coarse)').matches) first.focus();
      fitViewport();
    } else if (byUser) {
      launcher.focus();
    }
  }

  // A shared computer: the next person must not find this chat, nor the email
  // given in it. This device forgets the visitor (the conversation stays with
  // the agents); the widget is as for someone new.
  function endChat() {
    // A copy by email only to an address the customer proved theirs (the server checks again), where the channel can mail.
    if (profile.email && profile.email_proved && settings.transcript) return askEnd();
    if (win.confirm(t('endAsk'))) endNow(false);
  }
  function askEnd() {
    var copy = el('input', { type: 'checkbox' });
    var yes = el('button', { type: 'button', 'class': 'primary', text: t('end'), onclick: function () { endNow(copy.checked); } });
    endBox.textContent = '';
    [el('p', { text: t('endAsk') }), el('label', { 'class': 'copy' }, [copy, doc.createTextNode(' ' + t('endCopy', { email: profile.email }))]),
      el('div', { 'class': 'row' }, [yes, el('button', { type: 'button', 'class': 'secondary', text: t('endCancel'),
        onclick: function () { endBox.hidden = true; endBtn.focus(); } })])].forEach(function (n) { endBox.appendChild(n); });
    endBox.hidden = false;
    yes.focus();
  }
  function endNow(copy) {
    var token = state.token, sent = t('copySent', { email: profile.email });
    var query = copy ? '?transcript=1&lang=' + encodeURIComponent(lang) : '';
    try { localStorage.removeItem(STORE_KEY); } catch (e) { /* nothing stored */ }
    forgetVisitor();
    var gen = generation;
    // The server refuses the token from now on, to anyone who copied it; forgotten here even offline.
    fetch(SERVER + '/api/v1/webchat/sessions' + query, { method: 'DELETE', headers: { authorization: 'Bearer ' + token },
      credentials: 'omit', mode: 'cors', keepalive: true }).then(function (res) {
      return res.status === 200 ? res.json() : {};
    }).then(function (body) {
      // Promised only once the server queued it (a proved address, a chat to copy).
      if (body.mailed && gen === generation) showSent(sent);
    }).catch(function () {});
    launcher.focus();
  }
  function showSent(text) {
    sentNote.textContent = text;
    sentNote.hidden = !text;
    clearTimeout(sentTimer);
    if (text) sentTimer = setTimeout(showSent, 20000, '');
  }
  function forgetVisitor() {
    if (state.token) endedTokens[state.token] = true;
    generation++;
    sessionPromise = null;
    var sock = ws;
    ws = null;  // its close is not a lost connection
    if (sock) sock.close();
    clearTimeout(retryTimer); clearInterval(pingTimer); clearTimeout(answerTimer);
    retryTimer = answerTimer = attempt = 0;
    live = replaying = everConnected = false;
    lastError = '';
    state = { token: '', expiresAt: 0, issuedAt: 0, conv: '', open: false, outbox: [], lang: '', verify: null };
    verifyNote = null;
    codeInput.value = '';
    convOrder = []; lastSeq = {}; convStatus = {}; byKey = {}; byClient = {};
    readSent = {}; deliveredSent = {}; lastOutSeq = {}; sideOf = {};
    unread = 0; settings = {}; profile = {}; queueInfo = null; agentsOnline = true; localFiles = {};
    uploadQueue = []; uploadsRunning = 0; failedUploads = [];
    [logEl, typingEl, endBox, offlineBox, prechatBox, queueBox].forEach(function (n) { n.textContent = ''; });
    [endBox, offlineBox, prechatBox, verifyBox, queueBox].forEach(function (n) { n.hidden = true; });
    showAlert('');
    setBanner('');
    textarea.value = '';
    textarea.disabled = false;
    onInput();
    applyLanguage();  // the title, launcher, status and 📎 as for someone new
    setOpen(false, false);
  }

  // Full screen on a phone, the panel is as tall as what the keyboard leaves
  // (the visual viewport): else the browser pans it and the header goes.
  function fullScreen() { return win.matchMedia('(max-width:480px),(max-height:500px)').matches; }
  function fitViewport() {
    var vv = win.visualViewport, full = fullScreen(), fit = vv && full;
    panel.style.height = fit ? vv.height + 'px' : '';
    panel.style.top = fit ? vv.offsetTop + 'px' : '';
    if (full) panel.setAttribute('aria-modal', 'true'); else panel.removeAttribute('aria-modal');
  }
  // Full screen, Tab stays in the panel: the launcher and the page are under it.
  function trapFocus(e) {
    if (e.key !== 'Tab' || !fullScreen()) return;
    var all = Array.prototype.filter.call(panel.querySelectorAll('button,input,textarea,[tabindex]'), function (n) {
      return !n.disabled && n.getClientRects().length;
    });
    var now = root.getRootNode().activeElement, end = e.shiftKey ? all[0] : all[all.length - 1];
    if (now === end || all.indexOf(now) < 0) { e.preventDefault(); (e.shiftKey ? all[all.length - 1] : all[0]).focus(); }
  }

  function start() {
    build();
    if (win.visualViewport) ['resize', 'scroll'].forEach(function (e) { win.visualViewport.addEventListener(e, fitViewport); });
    doc.addEventListener('visibilitychange', function () {
      if (doc.visibilityState !== 'visible') return;
      titleCount(0);
      sendSeen(state.conv);
      checkConnection();
    });
    win.addEventListener('online', checkConnection);
    win.addEventListener('focus', function () { resumeHere(false); });
    win.addEventListener('storage', function (e) {
      if (e.key !== STORE_KEY) return;
      if (e.newValue === null && state.token) { forgetVisitor(); return; }  // chat ended in another tab
      var s = load(), kept = {};
      if (s.token && s.token !== state.token && !endedTokens[s.token]) { state.token = s.token; state.expiresAt = s.expires_at; state.issuedAt = s.issued_at; }
      // Another tab's message that tab has seen stored is not written back from here.
      (s.outbox || []).forEach(function (i) { kept[i && i.client_id] = true; });
      state.outbox = state.outbox.filter(function (i) { return mine[i.client_id] || kept[i.client_id]; });
    });
    // A known visitor reconnects at once (history, unread answers); a new one
    // gets a session only when they open the chat.
    if (state.token) connect();
    if (state.open) setOpen(true, false);
  }
  if (doc.body) start(); else doc.addEventListener('DOMContentLoaded', start);
})();
