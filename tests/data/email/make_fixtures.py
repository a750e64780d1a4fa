#!/usr/bin/env python3
"""Writes the .eml fixtures of the email connector tests.

The files are committed; this script documents how their bytes were made
(charsets, transfer encodings) and regenerates them. Run from this folder.
"""
import base64
import quopri

CRLF = "\r\n"


def b64(data: bytes, width: int = 76) -> str:
    s = base64.b64encode(data).decode()
    return CRLF.join(s[i:i + width] for i in range(0, len(s), width))


def ew(text: str, charset: str = "utf-8") -> str:
    return "=?%s?B?%s?=" % (charset, base64.b64encode(text.encode(charset)).decode())


def write(name: str, text: str, raw_body: bytes = b""):
    data = text.replace("\r\n", "\n").replace("\n", CRLF).encode("utf-8") + raw_body
    with open(name, "wb") as f:
        f.write(data)


# 1. Persian in windows-1256, 8bit: Farsi yeh does not exist there, so the text
#    has Arabic yeh (U+064A) and Arabic kaf; the subject is an encoded word in 1256.
fa_text = ("سلام،\nگوشي من بعد از يك هفته خاموش شد. لطفاً براي تعمير زير گارانتي راهنمايي كنيد.\n"
           "شماره سفارش: 98231\nپيشاپيش ممنونم\nرضا\n")
write("fa_windows1256.eml", f"""Return-Path: <reza.ahmadi@example.ir>
From: {ew('رضا احمدي', 'windows-1256')} <Reza.Ahmadi@Example.IR>
To: Support <support@support.example>
Subject: {ew('درخواست تعمير گوشي', 'windows-1256')}
Date: Tue, 05 Mar 2024 10:15:00 +0330
Message-ID: <fa-1256-001@example.ir>
MIME-Version: 1.0
Content-Type: text/plain; charset=windows-1256
Content-Transfer-Encoding: 8bit

""", fa_text.replace("\n", "\r\n").encode("cp1256"))

# 2. Arabic written in windows-1256 but labelled iso-8859-6 (quoted-printable).
#    Every byte happens to exist in iso-8859-6, so only the garble check can tell.
ar_text = "مرحبا أريد إرجاع هذا الجهاز لأن الشاشة لا تعمل منذ يومين. الطلب 4471.\nشكرا\n"
ar_text = ar_text.replace("شكرا", "مع التحية")  # keep it decodable as iso-8859-6 (no kaf/feh/qaf)
write("ar_mislabelled_iso88596.eml", """From: Omar <omar@example.sa>
To: support@support.example
Subject: =?iso-8859-6?Q?=C5=D1=CC=C7=D9?=
Date: Wed, 06 Mar 2024 09:00:00 +0300
Message-ID: <ar-mislabel-7@example.sa>
MIME-Version: 1.0
Content-Type: text/plain; charset="iso-8859-6"
Content-Transfer-Encoding: quoted-printable

""", quopri.encodestring(ar_text.encode("cp1256")).replace(b"\n", b"\r\n"))

# 3. Arabic correctly in iso-8859-6, base64.
ar_ok = "شكرا لكم على الرد السريع\r\nتم حل المشكلة\r\n"
write("ar_iso88596.eml", f"""From: Layla <layla@example.ae>
To: support@support.example
Subject: =?iso-8859-6?B?{base64.b64encode('شكرا'.encode('iso8859_6')).decode()}?=
Date: Wed, 06 Mar 2024 11:00:00 +0400
Message-ID: <ar-ok-1@example.ae>
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-6
Content-Transfer-Encoding: base64

{b64(ar_ok.encode('iso8859_6'))}
""")

# 4. Quoted-printable UTF-8 with soft line breaks, English and Persian, and a signature.
qp_text = ("Hello,\r\nmy order 5521 arrived with a cracked screen. I would like an exchange under warranty, "
           "please tell me how to send it back.\r\nسفارش من با صفحه‌ی شکسته رسید.\r\n\r\n-- \r\nSara Karimi\r\n+98 912 000 0000\r\n")
write("qp_utf8.eml", """From: "Karimi, Sara" <sara@example.com>
To: support@support.example
Subject: Cracked screen on arrival
Date: Thu, 07 Mar 2024 08:30:00 +0000
Message-ID: <qp-1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

""", quopri.encodestring(qp_text.encode()).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))

# 5. Base64 UTF-8 body (Persian with ZWNJ), subject as Q-encoded Persian words,
#    and a display name split into two encoded words with one character's bytes
#    across the boundary.
b64_text = "می‌خواهم دستگاهم را برای تعمیر بفرستم. آدرس نمایندگی تهران کجاست؟\n"
name = "مریم رضایی".encode()
write("base64_utf8.eml", f"""From: =?UTF-8?B?{base64.b64encode(name[:5]).decode()}?=
 =?UTF-8?B?{base64.b64encode(name[5:]).decode()}?= <Maryam@Example.com>
To: support@support.example
Subject: =?UTF-8?Q?=D8=AA=D8=B9=D9=85=DB=8C=D8=B1_=D8=AF=D8=B3=D8=AA=DA=AF=D8=A7=D9=87?=
Date: Thu, 07 Mar 2024 12:00:00 +0330
Message-ID: <b64-1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

{b64(b64_text.encode())}
""")

# 6. Arabic subject in Q encoding, Persian subject split across words mid-character.
subj = "وضعیت درخواست گارانتی".encode()
write("subject_split.eml", f"""From: =?utf-8?q?=D8=B9=D9=84=D9=8A?= <ali@example.iq>
To: support@support.example
Subject: =?utf-8?B?{base64.b64encode(subj[:7]).decode()}?= =?utf-8?B?{base64.b64encode(subj[7:]).decode()}?=
Date: Fri, 08 Mar 2024 09:00:00 +0300
Message-ID: <subject-split@example.iq>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Any news?
""")

# 7. HTML only: script/style dropped, blocks, lists, entities, a link.
write("html_only.eml", """From: Nima <nima@example.com>
To: support@support.example
Subject: Installation help
Date: Fri, 08 Mar 2024 10:00:00 +0000
Message-ID: <html-only@example.com>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 8bit

<html><head><title>ignored title</title><style>p { color: red; }</style></head>
<body><script>alert('x')</script><p>Hi&nbsp;team,</p>
<p>I need help installing the <b>AC-200</b> unit:</p>
<ul><li>the bracket &amp; screws are missing</li><li>manual page&nbsp;4 is unclear</li></ul>
<div>Photos: <a href="https://photos.example.com/ac200">my album</a></div>
<div>نصب کولر&zwnj;ها</div>
</body></html>
""")

# 8. Attachments: a PDF-ish file with an RFC 2231 Persian name and a tiny PNG.
pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
write("attachments.eml", f"""From: Hossein <hossein@example.ir>
To: support@support.example
Subject: Invoice and photo
Date: Sat, 09 Mar 2024 09:00:00 +0330
Message-ID: <attach-1@example.ir>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Invoice and a photo of the damage are attached.
--b1
Content-Type: application/pdf
Content-Disposition: attachment; filename*=utf-8''%D9%81%D8%A7%DA%A9%D8%AA%D9%88%D8%B1.pdf
Content-Transfer-Encoding: base64

{b64(pdf)}
--b1
Content-Type: image/png; name="../../damage.png"
Content-Disposition: attachment; filename="../../damage.png"
Content-Transfer-Encoding: base64

{b64(png)}
--b1--
""")

# 9. Outlook reply: plain with an underscore line and a From/Sent block, HTML with divRplyFwdMsg.
write("outlook_reply_en.eml", """From: John Miller <John.Miller@corp.example>
To: Support <reply+c0nv42@support.example>
Subject: RE: Re: Your repair request
Date: Mon, 11 Mar 2024 14:02:00 +0000
Message-ID: <DB9PR01MB0001@corp.example>
In-Reply-To: <pasokh.Y3ZfNDI.Y3ZfNDI6Nw@support.example>
References: <orig-1@corp.example> <pasokh.Y3ZfNDI.Y3ZfNDI6Nw@support.example>
Thread-Index: AQHabc
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: 7bit

Thanks, Tuesday morning works for the technician visit.

John

________________________________
From: Support <support@support.example>
Sent: Monday, March 11, 2024 1:00 PM
To: John Miller <John.Miller@corp.example>
Subject: Re: Your repair request

Can our technician visit on Tuesday?
--alt
Content-Type: text/html; charset="us-ascii"

<html><body><div>Thanks, Tuesday morning works for the technician visit.</div><div><br></div><div>John</div>
<div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">
<div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Support &lt;support@support.example&gt;<br><b>Sent:</b> Monday</div>
<div>Can our technician visit on Tuesday?</div></body></html>
--alt--
""")

# 10. Gmail reply in Persian: attribution line wrapped by bidi marks, quoted lines.
write("gmail_reply_fa.eml", f"""From: {ew('علی رضایی')} <ali.rezaei@gmail.example>
To: {ew('پشتیبانی')} <reply+tok-fa.9@support.example>
Subject: {ew('Re: گارانتی گوشی')}
Date: Tue, 12 Mar 2024 09:00:00 +0330
Message-ID: <CAF=fa-gmail-1@mail.gmail.example>
In-Reply-To: <pasokh.Y3ZfOQ.Y3ZfOTox@support.example>
References: <pasokh.Y3ZfOQ.Y3ZfOTox@support.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="000fa"

--000fa
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: 8bit

ممنون، فردا دستگاه را به نمایندگی می‌برم.

‫در تاریخ دوشنبه ۱۱ مارس ۲۰۲۴ ساعت ۱۰:۰۰ پشتیبانی <
support@support.example> نوشت:‬

> لطفا دستگاه را همراه فاکتور بیاورید.
>
--000fa
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: 8bit

<div dir="rtl">ممنون، فردا دستگاه را به نمایندگی می&zwnj;برم.</div><br><div class="gmail_quote"><div dir="rtl" class="gmail_attr">در تاریخ دوشنبه ۱۱ مارس ۲۰۲۴ ساعت ۱۰:۰۰ پشتیبانی &lt;support@support.example&gt; نوشت:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">لطفا دستگاه را همراه فاکتور بیاورید.</blockquote></div>
--000fa--
""")

# 11. Gmail reply in Arabic ("في … كتب:"), plain only, with a signature.
write("gmail_reply_ar.eml", f"""From: {ew('خالد')} <khaled@gmail.example>
To: support@support.example
Subject: {ew('رد: طلب الإرجاع')}
Date: Tue, 12 Mar 2024 10:00:00 +0300
Message-ID: <CAF-ar-gmail-2@mail.gmail.example>
In-Reply-To: <pasokh.Y3ZfNw.Y3ZfNzoz@support.example>
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: 8bit

نعم، المنتج ما زال في العلبة الأصلية.

-- 
خالد

في الاثنين، 11 مارس 2024 في 9:00 ص كتب فريق الدعم <support@support.example>:
> هل المنتج في عبوته الأصلية؟
""")

# 12. Thunderbird HTML reply: moz-cite-prefix + blockquote type=cite + moz-signature.
write("thunderbird_reply.eml", """From: Parisa <parisa@example.de>
To: support@support.example
Subject: Re: Training session
Date: Wed, 13 Mar 2024 16:00:00 +0100
Message-ID: <tb-1@example.de>
In-Reply-To: <pasokh.Y3ZfMTA.Y3ZfMTA6NA@support.example>
User-Agent: Mozilla Thunderbird
MIME-Version: 1.0
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: 7bit

<html><body><p>Thursday at 3 pm is fine for the training.</p>
<div class="moz-cite-prefix">On 13.03.24 12:00, Support wrote:<br></div>
<blockquote type="cite"><p>Which day suits you for the training?</p><blockquote type="cite">nested</blockquote></blockquote>
<pre class="moz-signature" cols="72">-- 
Parisa</pre></body></html>
""")

# 13. An out-of-office reply.
write("auto_reply.eml", """From: Mehdi <mehdi@example.com>
To: support@support.example
Subject: Automatic reply: Your repair request
Date: Wed, 13 Mar 2024 17:00:00 +0000
Message-ID: <oof-1@example.com>
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

I am out of the office until Monday.
""")

# 14. A bounce: multipart/report from MAILER-DAEMON with an empty Return-Path.
write("bounce.eml", """Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.example>
To: support@support.example
Subject: Undelivered Mail Returned to Sender
Date: Thu, 14 Mar 2024 08:00:00 +0000
Message-ID: <bounce-1@mx.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="rep"

--rep
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.
I'm sorry to have to inform you that your message could not be delivered.

<nobody@example.net>: host mx.example.net said: 550 5.1.1 User unknown
--rep
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example

Final-Recipient: rfc822; nobody@example.net
Action: failed
Status: 5.1.1
--rep
Content-Type: text/rfc822-headers

From: Support <support@support.example>
To: nobody@example.net
Subject: Re: Your repair request
Message-ID: <pasokh.Y3ZfNQ.Y3ZfNToy@support.example>
--rep--
""")

# 15. A forwarded message as message/rfc822.
write("forwarded.eml", """From: Kian <kian@example.com>
To: support@support.example
Subject: Fwd: Order confirmation 7781
Date: Thu, 14 Mar 2024 12:00:00 +0000
Message-ID: <fwd-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="fw"

--fw
Content-Type: text/plain; charset=utf-8

Please see the order confirmation below; the warranty card was missing.
--fw
Content-Type: message/rfc822
Content-Disposition: inline

From: Shop <orders@shop.example>
To: kian@example.com
Subject: Order confirmation 7781
Date: Mon, 04 Mar 2024 10:00:00 +0000
Message-ID: <order-7781@shop.example>
Content-Type: text/plain; charset=utf-8

Thank you for your order 7781: one AC-200 air conditioner.
--fw--
""")

# 16. HTML with an inline image (multipart/related).
write("related.eml", f"""From: Dana <dana@example.com>
To: support@support.example
Subject: Error on the display
Date: Fri, 15 Mar 2024 09:00:00 +0000
Message-ID: <related-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/related; boundary="rel"; type="text/html"

--rel
Content-Type: text/html; charset=utf-8

<p>The display shows this error:</p><img src="cid:err@example.com"><p>What does E4 mean?</p>
--rel
Content-Type: image/png
Content-ID: <err@example.com>
Content-Transfer-Encoding: base64

{b64(png)}
--rel--
""")

# 17. List traffic.
write("list_mail.eml", """From: Newsletter <news@vendor.example>
To: support@support.example
Subject: Our spring offers
Date: Fri, 15 Mar 2024 10:00:00 +0000
Message-ID: <news-1@vendor.example>
Precedence: bulk
List-Id: Vendor news <news.vendor.example>
List-Unsubscribe: <mailto:unsubscribe@vendor.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Spring offers inside.
""")

# 18. Damaged: a multipart without its boundary parameter, no Message-ID.
write("broken_multipart.eml", """From: broken@example.com
To: support@support.example
Subject: broken
Content-Type: multipart/mixed

--x
Content-Type: text/plain

part one
--x--
""")

# 19. Not a mail at all.
write("garbage.eml", "", b"\x00\xff\xfe this is \x01 not a message\r\n\r\n")

# 20. format=flowed plain text (Thunderbird) and no Message-ID.
write("flowed.eml", """From: Babak <babak@example.com>
To: support@support.example
Subject: Delivery date
Date: Fri, 15 Mar 2024 11:00:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit

When will my order be delivered? It was promised for last week and the 
tracking page has not changed since Monday.

Babak
""")
