// The console's language: English (the default, written in index.html and
// below), Persian or Arabic (right to left), chosen by the agent and kept in
// localStorage. Only the chosen language's dictionary is loaded
// (js/i18n/fa.js, js/i18n/ar.js); a key it lacks shows in English. The
// page is built once per language: a new choice reloads it.
const KEY = 'pasokh.console.lang';
export const LANGUAGES = { en: 'English', fa: 'فارسی', ar: 'العربية' };
const RTL = new Set(['fa', 'ar']);

// English for the texts the views write (the page's own are in index.html).
// A count-dependent text is { one, other } (Intl.PluralRules picks).
const EN = {
  'p.title': 'Pasokh console',
  'login.failed': 'Sign-in failed. Please try again.',
  'login.wrong': 'Wrong login or password.',
  'login.tooMany': 'Too many failed sign-in attempts.',
  'login.retryIn': 'Try again in {n} seconds.',
  'login.retryMinute': 'Try again in a minute.',
  'login.missing': 'Enter your login and your password.',
  'login.server': 'The server is unavailable right now. Please try again shortly.',
  'login.failedWhy': 'Sign-in failed: {error}',
  'conn.connecting': 'Connecting…', 'conn.online': 'Online', 'conn.reconnecting': 'Reconnecting…', 'conn.closed': 'Offline',
  'view.mine': 'Mine', 'view.unassigned': 'Unassigned', 'view.team': 'Team', 'view.all': 'All',
  'st.any': 'Any status', 'st.bot': 'bot', 'st.queued': 'queued', 'st.assigned': 'assigned', 'st.snoozed': 'snoozed',
  'st.resolved': 'resolved', 'st.closed': 'closed', 'st.unknown': 'unknown',
  'stf.bot': 'Bot', 'stf.queued': 'Queued', 'stf.assigned': 'Assigned', 'stf.snoozed': 'Snoozed',
  'pr.low': 'low', 'pr.normal': 'normal', 'pr.high': 'high', 'pr.urgent': 'urgent',
  'inbox.conversations': ' conversations',
  'inbox.unread': 'unread',
  'inbox.slaMissed': 'SLA target missed',
  'inbox.empty': 'No open conversations here.',
  'loading': 'Loading…',
  'inbox.more': 'Showing {loaded} of {total} open conversations.',
  'inbox.loadOlder': 'Load older',
  'inbox.moreFailed': 'Could not load more: {error}',
  'you': 'you', 'You': 'You', 'customer': 'Customer', 'agent': 'Agent', 'bot': 'Bot', 'system': 'System',
  'youMark': ' (you)', 'arrow': '→', // ← in a right-to-left line
  'mark.pending': 'Pending', 'mark.sent': 'Sent', 'mark.delivered': 'Delivered', 'mark.read': 'Read', 'mark.failed': 'Failed',
  'msg.attachments': 'Attachments', 'msg.open': 'Open', 'msg.openFailed': ' Could not open: {error}',
  'msg.fileTooBig': 'the file is over 20 MB, the most Telegram hands a bot; ask the customer to send it another way',
  'msg.partsDelivered': { one: 'part {failed} of {of} failed; the customer has part {first}', other: 'part {failed} of {of} failed; the customer has parts {first}–{n}' },
  // A message type Pasokh cannot show (attachment kind 'unsupported'), and the providers' names for them.
  'att.unsupported': 'Message Pasokh cannot show:',
  'ut.poll': 'poll', 'ut.poll_creation': 'poll', 'ut.dice': 'dice', 'ut.story': 'story', 'ut.game': 'game', 'ut.order': 'order',
  'ut.system': 'WhatsApp notice', 'ut.nfm_reply': 'form answers', 'ut.unsupported': 'a type the provider does not pass on',
  'msg.choices': 'Offered choices', 'msg.quoted': 'Show quoted text',
  'msg.erasedRetention': 'Text removed after the retention period', 'msg.erasedCustomer': 'Removed: the customer was erased',
  'msg.senderUnverified': 'Our mail server could not verify the sender\'s address (DMARC failed): this mail may not be from the customer.',
  'msg.sendAgain': 'Send again', 'msg.notDelivered': 'Not delivered', 'msg.notDeliveredYet': 'Not delivered yet',
  'msg.channelUnserved': 'no server sends on channel {channel} any more; reach the customer another way',
  'msg.retry': 'retry {n} at ',
  'msg.emailedTitle': 'Unread in the chat: sent to the customer\'s email {at}', 'msg.emailed': ' · sent by email',
  'msg.edited': ' (edited)', 'msg.unsent': 'The customer unsent this message', 'msg.note': 'Private note',
  'msg.waiting': 'Waiting for connection', 'msg.sending': 'Sending', 'msg.notSent': 'Not sent: {error} ',
  'msg.unknownError': 'unknown error', 'msg.retryBtn': 'Retry', 'msg.discard': 'Discard',
  'agent.removed': '{name} (removed)',
  'ev.by': ' by {who}', 'ev.status': 'Status', 'ev.toTeam': 'to team {team}', 'ev.until': 'until {at}',
  'ev.priority': 'Priority', 'ev.labels': 'Labels',
  'ev.csat': 'Customer rated {rating}/5', 'ev.csatWith': ' (conversation with {who})',
  'ev.reaction': 'Customer reacted {emoji} to an earlier message', 'ev.reactionGone': 'Customer took back their reaction {emoji}',
  'msg.reaction': 'Customer reacted',
  'ev.visitorLeft': 'The customer ended the chat on this device.',
  'ev.visitorLeftEmail': 'Replies will reach them only by email.', 'ev.visitorLeftNoEmail': 'Replies will not reach them (no confirmed email).',
  'ev.csatComment': 'Customer commented on their rating:', 'ev.csatComplaint': 'Customer complained about the service with their rating:', 'ev.routed': 'Routed to team {team}',
  'ev.sla': 'SLA', 'ev.slaFirst': 'first response', 'ev.slaBreach': 'breached',
  're.transfer': 'transferred', 're.reopened': 'reopened', 're.unsnoozed': 'back from snooze', 're.taken': 'taken',
  're.manual': 'assigned', 're.timeout': 'no reply in time, offered to another agent', 're.agent_removed': 'agent removed',
  're.erased': 'the customer was erased',
  're.no_reply': 'no reply in time, offered to another agent', 're.assignee_offline': 'the agent went offline', 're.assignee_away': 'the agent is away',
  'conv.this': 'This conversation', 'conv.earlier': 'Earlier conversation',
  'conv.slaMissed': 'SLA missed', 'conv.firstDue': ' · first reply due ', 'conv.assignedTo': ' · assigned to {who}',
  'conv.team': ' · team {team}', 'conv.closedNote': 'This conversation is {status}.',
  'conv.removeLabel': 'Remove label {label}', 'conv.remove': 'Remove',
  'conv.repliesElsewhere': 'Replies go to another address than the sender\'s:',
  'conv.repliesElsewhereTitle': 'The mail asked for answers at this address (Reply-To). Anyone can write a sender\'s address: make sure it is the customer\'s.',
  'conv.loadingHistory': 'Loading history…', 'conv.noMessages': 'No messages yet.',
  'typing.customer': 'The customer is typing…',
  'typing.agents': { one: '{who} is also replying here.', other: '{who} are also replying here.' },
  'typing.viewing': { one: '{who} is also viewing this conversation.', other: '{who} are also viewing this conversation.' },
  'typing.another': 'Another agent',
  'composer.send': 'Send', 'composer.addNote': 'Add note', 'composer.reply': 'Reply', 'composer.note': 'Private note',
  'composer.notePh': 'Private note: only agents see it', 'composer.replyPh': 'Write a reply… (/ for canned responses)',
  'act.assign': 'assign', 'act.transfer': 'transfer', 'act.snooze': 'snooze', 'act.escalate': 'escalate', 'act.reopen': 'reopen',
  'act.resolve': 'resolve',
  'act.failed': 'Could not {op}: {error}', 'act.failedConv': 'Could not {op} {conv}: {error}',
  'act.loadAgents': 'Cannot load agents and teams: {error}',
  'act.chooseAgent': 'Choose an agent.', 'act.chooseTeam': 'Choose a team.', 'act.future': 'Pick a time in the future.',
  'presence.online': 'online', 'presence.away': 'away', 'presence.offline': 'offline',
  'ok': 'OK', 'cancel': 'Cancel',
  'app.openCustomer': 'Could not open the customer: {error}', 'app.loadCustomer': 'Could not load the customer: {error}',
  'app.presence': 'Status not changed: {error}', 'app.note': 'Note not saved: {error}', 'app.labels': 'Labels not changed: {error}',
  'app.offlineResolve': 'You are offline. Resolve again once the console has reconnected.',
  'app.resolveFailed': 'Could not resolve: {error}', 'app.server': 'Server: {error}',
  'app.channelUnavailable': 'Not sent: no server sends on channel {channel} now. Reach the customer another way.',
  'app.offline': 'you are offline; try again once reconnected',
  'app.lost': 'the connection was lost; check the conversation and try again',
  'api.network': 'Cannot reach the server. Check your connection and try again.',
  'app.ended': 'Your session has ended. Please sign in again.',
  'app.newAssignment': 'New assignment', 'app.newConversation': 'New conversation', 'app.newMessage': 'New message',
  'search.nothing': 'Nothing found.', 'search.customers': 'Customers ({n})', 'search.conversations': 'Conversations ({n})',
  'search.customersFound': 'Customers found', 'search.conversationsFound': 'Conversations found',
  'search.short': 'Type at least two letters or digits.', 'search.failed': 'Search failed: {error}',
  'search.searching': 'Searching…', 'search.note': 'Note · {who}',
  'cust.unknownLang': 'Unknown', 'cust.fa': 'Persian (fa)', 'cust.ar': 'Arabic (ar)', 'cust.en': 'English (en)',
  'cust.sameEmail': 'the same email address {v} is on that file', 'cust.samePhone': 'the same phone number {v} is on that file',
  'cust.sameName': 'the same name {v} and language on another channel',
  'cust.typedEmail': 'the same email address {v} was typed in the web chat — {not}', 'cust.notVerified': 'not verified',
  'cust.mentionedEmail': 'wrote the email address {v} of that file', 'cust.mentionedPhone': 'wrote the phone number {v} of that file',
  'cust.channelPh': 'channel', 'cust.idPh': 'id on that channel', 'cust.linkForm': 'Link an identity', 'cust.channel': 'Channel',
  'cust.idLabel': 'Id on that channel', 'cust.link': 'Link',
  'cust.purchases': 'Purchases', 'cust.loadingPurchases': 'Loading purchases…', 'cust.optOutTitle': 'Replied stop: no campaigns',
  'cust.optOut': 'opted out', 'cust.order': 'order {id}', 'cust.serial': ' · serial {serial}', 'cust.bought': ' · bought {date}',
  'cust.warrantyUntil': 'under warranty until {date}', 'cust.warrantyEnded': 'warranty ended {date}',
  'cust.warrantyUnknown': 'warranty unknown', 'cust.purchasesN': 'Purchases ({n})', 'cust.noPurchases': 'No purchases on file.',
  'cust.purchasesFailed': 'Purchases unavailable: {error}',
  'cust.duplicates': 'Possible duplicates', 'cust.samePerson': 'Possibly the same person', 'cust.working': 'Working…',
  'cust.samePersonAs': 'Possibly the same person as ', 'cust.convCount': '{n} conversations',
  'cust.mergeTitle': 'Merge these customer files?', 'cust.merge': 'Merge', 'cust.mergeText': 'Merge {from} into {to}?',
  'cust.mergeMoves': 'Their identities and conversations move to this file. You can undo it under "Merged into this file".',
  'cust.mergeBtn': 'Merge into this file', 'cust.notSame': 'Not the same person',
  'cust.mergedFiles': 'Merged files', 'cust.mergedInto': 'Merged into this file', 'cust.undoMerge': 'Undo merge',
  'cust.erase': 'Erase customer', 'cust.eraseTitle': 'Erase this customer?',
  'cust.eraseText': 'Everything Pasokh holds about {who} goes: name, contact details, notes, purchases, their identities on every channel, files merged into this one, and the texts and attachments of all their conversations. Reports keep counting the conversations.',
  'cust.eraseFinal': 'This cannot be undone. If they write again, they get a new customer file.',
  'cust.eraseTyped': 'Type the customer\'s name or {id} to confirm', 'cust.erasing': 'Erasing…',
  'cust.conversations': 'Conversations ({n})', 'cust.erased': 'Erased customer',
  'cust.erasedLine': 'Customer {id} · erased ', 'cust.erasingTexts': 'Removing the texts of their conversations…',
  'cust.erasedNote': 'Their personal data and the texts of their conversations were removed on request.',
  'cust.saving': 'Saving…', 'cust.saved': 'Saved.', 'cust.notSaved': 'Not saved: {error}',
  'cust.id': 'Customer {id}', 'cust.since': ' · since ', 'cust.mergedAway': 'This file was merged into {id}.',
  'cust.identities': 'Identities', 'cust.language': 'Language', 'cust.vip': 'VIP customer', 'cust.notes': 'Notes about the customer',
  'cust.saveNotes': 'Save notes', 'cust.loading': 'Loading the customer…',
  'p.conversations': 'Conversations',
  'rep.title': 'Reports', 'rep.period': 'Period', 'rep.last30': 'Last 30 days', 'rep.last7': 'Last 7 days',
  'rep.this_month': 'This month', 'rep.last_month': 'Last month', 'rep.custom': 'Custom', 'rep.from': 'From',
  'rep.to': 'To (inclusive)', 'rep.groupBy': 'Group by', 'rep.day': 'Day', 'rep.week': 'Week',
  'rep.allChannels': 'All channels', 'rep.allTeams': 'All teams', 'rep.allAgents': 'All agents', 'rep.show': 'Show',
  'rep.tz': 'Time zone', 'rep.tzShop': 'the shop\'s',
  'rep.csv': 'Download CSV', 'rep.rules': 'How the figures are counted',
  'rep.badPeriod': 'Choose a period: the first day before the last.',
  'rep.status': '{from} to {to} ({tz}), {n} conversations.',
  'dur.s': '{n} s', 'dur.min': '{n} min', 'dur.h': '{n} h', 'dur.d': '{n} d', 'dur.and': ' ',
  'rep.adminOnly': 'Reports need the admin role.', 'rep.failed': 'Cannot load the report: {error}',
  'rep.repeat': { one: '{n} customer wrote more than once', other: '{n} customers wrote more than once' },
  'rep.firstMedian': 'First response (median)', 'rep.resolutionMedian': 'Resolution (median)',
  'rep.resolved': '{n} resolved', 'rep.afterReopen': ', {n} after a reopen', 'rep.csat': 'CSAT (average of 5)',
  'rep.csatNote': { one: '{rated} of {asked} surveys sent rated; {n} rating received',
    other: '{rated} of {asked} surveys sent rated; {n} ratings received' },
  'rep.csatComplaints': { one: ', {n} with a complaint about the service', other: ', {n} with complaints about the service' },
  'rep.deflection': 'Bot deflection', 'rep.deflectionNote': '{deflected} of {n} bot conversations',
  'rep.crr': 'Customer retention (CRR)', 'rep.crrNote': '{retained} of {start} came back; {new} new, {back} back after a pause',
  'rep.sla': 'SLA met', 'rep.slaNote': '{met} met, {breached} breached', 'rep.slaPending': ', {n} pending (not counted)',
  'rep.lineTitle.day': 'Conversations and first response per day', 'rep.lineTitle.week': 'Conversations and first response per week',
  'rep.lineDesc.day': '{n} days from {from} to {to}: {total} conversations; first response median per day in business hours.',
  'rep.lineDesc.week': '{n} weeks from {from} to {to}: {total} conversations; first response median per week in business hours.',
  'rep.legendConv': 'Conversations (left axis)', 'rep.legendFirst': 'First response median (right axis)',
  'rep.dataTable': 'Data table', 'rep.date': 'Date', 'rep.firstResponse': 'First response', 'rep.resolvedCol': 'Resolved',
  'rep.byChannel': 'Conversations by channel', 'rep.noConversations': 'No conversations',
  'rep.agentNote': '{n} replies, response median {median}', 'rep.byAgent': 'Conversations by agent',
  'rep.noActivity': 'No agent activity', 'rep.agentsCaption': 'Agents: workload and response times (business hours)',
  'rep.replies': 'Replies', 'rep.responseMedian': 'Response (median)', 'rep.responseP90': 'Response (p90)',
  'rep.noActivityPeriod': 'No agent activity in this period.',
  // Admin and campaigns pages (their fa/ar texts: js/i18n/fa-admin.js, ar-admin.js).
  'sep': ', ',
  'adm.agents': 'Agents', 'adm.teams': 'Teams', 'adm.hours': 'Business hours', 'adm.canned': 'Canned responses',
  'adm.first_response': 'First response', 'adm.resolution': 'Resolution', 'adm.warn_before': 'Warn before',
  'adm.minutes': 'minutes', 'adm.hoursUnit': 'hours', 'adm.unitOf': '{label} in',
  'adm.h': '{n} h', 'adm.min': '{n} min', 'adm.s': '{n} s',
  'adm.noTargets': 'No targets', 'adm.warnAhead': 'warn {d} before',
  'adm.notNumber': '{label}: a number of minutes or hours, like 15 or 1.5 (empty: no target).',
  'adm.warnNothing': 'Warn before needs a first response or resolution target to warn about.',
  'adm.warnLong': 'Warn before ({d}) must be shorter than the target it warns about ({list}): as it is, the warning would never come.',
  'adm.notSaved': 'Not saved: {error}', 'adm.closedNotSaved': 'Closed-hours message not saved: {reason}.',
  'adm.hasBytes': '{name} has {n} bytes', 'adm.bytesNote': '{which} (a Persian or Arabic letter takes 2 bytes).',
  'adm.slaNotSaved': 'SLA not saved: {reason}', 'adm.hoursNotSaved': 'Business hours not saved: {where}{reason}',
  'adm.holidays': 'Holidays', 'adm.always': 'No hours set: open 24/7.',
  'adm.neverOpen': 'No open hours on any day ({tz}): closed all week.',
  'adm.openDays': 'Open {days} ({tz}).', 'adm.openNow': ' Open now.', 'adm.closedNow': ' Closed now.',
  'adm.none': 'None yet.', 'adm.edit': 'Edit', 'adm.editX': 'Edit {x}', 'adm.delete': 'Delete', 'adm.deleteX': 'Delete {x}',
  'adm.stopEdit': 'Cancel editing', 'adm.saveChanges': 'Save changes', 'adm.nothingChanged': 'Nothing changed.',
  'adm.addAgent': 'Add an agent', 'adm.login': 'Login', 'adm.name': 'Name', 'adm.password': 'Password (new agents, or to change it)',
  'adm.role': 'Role', 'adm.teamsCsv': 'Teams (comma-separated)', 'adm.capacity': 'Capacity', 'adm.saveAgent': 'Save agent',
  'adm.capacityDefault': 'default: {n}', 'adm.agentSaved': 'Agent {login} saved.',
  'adm.changeAgent': 'Change agent {login} (only the fields you change are saved)',
  'adm.delAgentQ': 'Delete this agent?', 'adm.delAgent': 'Delete agent', 'adm.delAgentText': 'Delete agent {name} ({login})?',
  'adm.delAgentNote': 'Their open conversations go back to the queue and they are signed out. This cannot be undone.',
  'adm.addTeam': 'Add a team', 'adm.id': 'Id', 'adm.assignment': 'Assignment', 'adm.strategy': 'Strategy',
  'adm.skills': 'Skills', 'adm.skillsCsv': 'Skills (comma-separated: warranty, returns, repair…)',
  'adm.languages': 'Languages', 'adm.languagesCsv': 'Languages (fa, ar, en)', 'adm.slaGroup': 'SLA targets',
  'adm.slaNote': 'Counted in business hours. Empty or 0: no target. Warn before: how long before a target the agents are warned.',
  'adm.closed': 'Closed-hours message',
  'adm.closedNote': 'The answer a customer gets when writing outside business hours, in their language: up to 4000 bytes (about 2000 Persian or Arabic letters). Empty: the built-in message.',
  'adm.builtInMsg': 'Built-in message', 'adm.noTarget': 'none', 'adm.saveTeam': 'Save team', 'adm.teamSaved': 'Team {id} saved.',
  'adm.unwarned': ' No warning comes before the {targets} target: it is not longer than Warn before.',
  'adm.changeTeam': 'Change team {id}', 'adm.own': 'Own: {langs}', 'adm.builtIn': 'Built-in',
  'adm.editTeam': 'Edit team {id}', 'adm.deleteTeam': 'Delete team {id}', 'adm.delTeamQ': 'Delete this team?',
  'adm.delTeam': 'Delete team', 'adm.delTeamText': 'Delete team {name} ({id})?',
  'adm.delTeamNote': 'Its agents stay but no longer get its conversations, and its business hours and SLA are lost.',
  'adm.teamInUse': 'Team {id} is still in use and was not deleted: {why}.',
  'adm.inUseChannels': 'channels {ids} send their customers to it (change their "team" in the configuration and restart)',
  'adm.inUseRules': 'routing rules {n} name it (change the configuration and restart)',
  'adm.inUseOpen': 'it has {n} open conversations ({queued} waiting): transfer them to another team first',
  'adm.noTeams': 'No teams yet: add one under Teams.',
  'adm.hoursHelp': 'Intervals are HH:MM-HH:MM, comma-separated (09:00-13:00, 14:00-17:00); an empty day is closed. With no time zone and no days the team has no hours: open 24/7. The closed-hours message is set under Teams → Edit.',
  'adm.team': 'Team {name}', 'adm.tz': 'Time zone (e.g. Asia/Tehran)', 'adm.closedPh': 'closed', 'adm.open247': 'open 24/7',
  'adm.holidaysCsv': 'Holidays (YYYY-MM-DD, comma-separated, e.g. Nowruz)', 'adm.saveHours': 'Save hours',
  'adm.tzNeeded': 'Time zone: required for these hours (e.g. Asia/Tehran). To stay open 24/7, empty the days and holidays too.',
  'adm.noDay': 'No day has open hours, so the team would be closed all week. Add hours, or empty the time zone to stay open 24/7.',
  'adm.hoursSaved': 'Business hours of {id} saved.',
  'adm.shortcut': 'Shortcut', 'adm.shortcutTyped': 'Shortcut (typed after /)', 'adm.title': 'Title', 'adm.text': 'Text',
  'adm.saveCanned': 'Save response', 'adm.addCanned': 'Add or change a response', 'adm.delCannedQ': 'Delete this canned response?',
  'adm.delCanned': 'Delete response', 'adm.delCannedText': 'Delete the canned response {shortcut}{title}?',
  'adm.delCannedNote': 'Agents can no longer pick it with /.',
  'adm.needsAdmin': 'This page needs the admin role.', 'adm.cannotLoad': 'Cannot load {page}: {error}',
  'adm.adminOnly': 'The admin pages need the admin role.',
  'cmp.c.queued': 'Queued', 'cmp.c.sent': 'Sent', 'cmp.c.delivered': 'Delivered', 'cmp.c.read': 'Read', 'cmp.c.failed': 'Failed',
  'cmp.c.replied': 'Replied', 'cmp.c.opted_out': 'Opted out', 'cmp.skipped': 'Skipped',
  'cmp.skip.opted_out': 'opted out', 'cmp.skip.no_channel': 'no channel', 'cmp.skip.no_template': 'no template',
  'cmp.k.occasion': 'Occasion greeting', 'cmp.k.follow_up': 'Follow-up after a purchase', 'cmp.k.birthday': 'Birthday',
  'cmp.k.warranty_ending': 'Warranty ending',
  'cmp.sum': '"{name}" ({kind}), with texts in {langs}{code}.', 'cmp.noLang': 'no language', 'cmp.code': ', offer code {code}',
  'cmp.a.languages': { one: '{n} language ({list})', other: '{n} languages ({list})' },
  'cmp.a.channels': { one: '{n} channel ({list})', other: '{n} channels ({list})' },
  'cmp.a.tags': { one: '{n} tag ({list})', other: '{n} tags ({list})' },
  'cmp.a.products': { one: '{n} product ({list})', other: '{n} products ({list})' },
  'cmp.targets': 'It targets {parts}; opted-out customers are skipped.',
  'cmp.everyone': 'The audience is empty: it goes to EVERY customer who has not opted out.',
  'cmp.schedule': 'Sending starts on its own schedule (at once for an occasion dated today). Pause or Cancel stop only messages not queued yet.',
  'cmp.noCount': 'The audience could not be counted just now; the campaign still checks every customer when it runs.',
  'cmp.on': '{n} on {channel}', 'cmp.msgs': { one: '{n} message', other: '{n} messages' },
  'cmp.custs': { one: '{n} customer', other: '{n} customers' },
  'cmp.wouldSend': 'Run now, it would send {messages} to {customers} ({channels}).',
  'cmp.wouldSendNone': 'Run now, it would send no message: nobody in its audience can be reached.',
  'cmp.why.opted_out': '{n} opted out', 'cmp.why.no_channel': '{n} with no channel it can use',
  'cmp.why.no_template': '{n} outside a messenger\'s 24-hour window (no template)', 'cmp.skippedList': 'Skipped: {list}.',
  'cmp.more': { one: '{n} more message', other: '{n} more messages' },
  'cmp.ahead': 'In the next {days} days: {more} (most on {day}: {n}), as the customer files stand now.',
  'cmp.aheadNone': 'In the next {days} days: no more messages, as the customer files stand now.',
  'cmp.partial': 'Counted from the first {looked} of {total} customer files.',
  'cmp.example': 'For example, to {name} on {channel}: “{text}”',
  'cmp.quiet': 'quiet hours until {at}', 'cmp.waiting': 'waiting (next look {at})', 'cmp.scheduledAt': 'scheduled {at}',
  'cmp.cancelQ': 'Cancel this campaign?', 'cmp.cancelIt': 'Cancel campaign', 'cmp.keep': 'Keep it',
  'cmp.cancelText': 'Cancel the campaign {name}?', 'cmp.final': 'This is final: it cannot be resumed. Messages already queued still go out.',
  'cmp.pause': 'Pause', 'cmp.resume': 'Resume', 'cmp.cancel': 'Cancel',
  'cmp.live': 'Campaigns (live)', 'cmp.kind': 'Kind', 'cmp.occasion': 'Occasion', 'cmp.aDate': 'A date', 'cmp.nowruz': 'Nowruz',
  'cmp.yalda': 'Yalda', 'cmp.date': 'Date (occasion)', 'cmp.days': 'Days (after the purchase / before the warranty ends)',
  'cmp.text_fa': 'Text, Persian', 'cmp.text_ar': 'Text, Arabic', 'cmp.text_en': 'Text, English',
  'cmp.fallback': 'Fallback languages (e.g. fa, en)', 'cmp.codeField': 'Offer code ({code})', 'cmp.tags': 'Audience: tags (any of)',
  'cmp.languages': 'Audience: languages', 'cmp.channels': 'Audience: channels', 'cmp.products': 'Audience: products',
  'cmp.template': 'WhatsApp template (outside the 24-hour window)', 'cmp.templateLang': 'Template language',
  'cmp.templateParams': 'Template parameters (e.g. {name}, {code})', 'cmp.rate': 'Messages per second',
  'cmp.create': 'Create campaign', 'cmp.createQ': 'Create and send this campaign?', 'cmp.created': 'Campaign created.',
  'cmp.title': 'Campaigns', 'cmp.new': 'New campaign',
  'cmp.help': 'Placeholders: {name} {product} {code} {order_id} {serial} {purchase_date} {warranty_end}. Opted-out customers are never messaged; nothing is sent in quiet hours.',
  'cmp.loadFailed': 'Cannot load the campaigns: {error}', 'cmp.adminOnly': 'Campaigns need the admin role.',
};

function storedLanguage() {
  try { return globalThis.localStorage?.getItem(KEY) ?? ''; } catch { return ''; }
}

export let lang = LANGUAGES[storedLanguage()] ? storedLanguage() : 'en';
let dict = {};
const parts = new Map(); // part -> its loading, in this language
// Built once per language (a choice reloads the page): renders format often.
let numbers, plurals;

// The locale for Intl: English dates stay day-first as before (en-GB); fa
// writes Persian digits (and the Solar Hijri calendar), ar Arabic-Indic ones
// (asked for: newer ICU gives plain ar Latin digits).
const LOCALES = { en: 'en-GB', fa: 'fa', ar: 'ar-u-nu-arab' };
export const locale = () => LOCALES[lang];

// Sets the language and its dictionary (tests give them directly).
export function useLanguage(code, dictionary = {}) {
  lang = LANGUAGES[code] ? code : 'en';
  dict = lang === 'en' ? {} : dictionary;
  parts.clear();
  numbers = new Intl.NumberFormat(locale());
  plurals = new Intl.PluralRules(locale());
}
useLanguage(lang);

// The stored choice's dictionary; English when it cannot be had.
export async function loadLanguage() {
  if (lang === 'en') return;
  try { useLanguage(lang, (await import(`./i18n/${lang}.js`)).default); } catch { useLanguage('en'); }
}

// The texts of pages only admins open (`part` 'admin': js/i18n/fa-admin.js),
// loaded once, when an admin signs in: agents never load them. English when
// they cannot be had.
export function loadPart(part) {
  if (lang === 'en') return Promise.resolve();
  if (!parts.has(part)) {
    parts.set(part, import(`./i18n/${lang}-${part}.js`).then((m) => { dict = { ...dict, ...m.default }; }, () => {}));
  }
  return parts.get(part);
}

export const num = (n) => numbers.format(n);

// `key` in the language, `{name}` replaced by vars.name (numbers in the
// language's digits); a key the dictionary lacks is English.
export function t(key, vars = {}) {
  let s = dict[key] ?? EN[key] ?? key;
  if (typeof s === 'object') s = s[plurals.select(vars.n ?? 0)] ?? s.other;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? (typeof vars[k] === 'number' ? num(vars[k]) : String(vars[k])) : m));
}

// The language's name for a value the server sends (`prefix` 'st.' and a
// status): the value itself when it has none.
export function named(prefix, value) {
  const key = prefix + value;
  return value && (dict[key] ?? EN[key] ?? value);
}

// Items joined as the language lists them ("a, b" / "a، b").
export const listOf = (items) => items.join(t('sep'));
// A list field as typed, split at a Latin or a Persian/Arabic comma (U+060C, what
// a Persian or Arabic keyboard writes): "warranty، repair" is two items.
export const splitList = (v) => String(v ?? '').split(/[,\u060C]/).map((x) => x.trim()).filter(Boolean);

// `text` with its {name} parts replaced by nodes (a customer's name in a
// <bdi>): the order of a sentence is the language's, not the code's.
export function tParts(key, parts) {
  return t(key).split(/\{(\w+)\}/).map((s, i) => (i % 2 ? parts[s] ?? '' : s));
}

// The page's own texts (index.html): data-i18n="key" for an element's text,
// data-i18n-attr="placeholder:key aria-label:key" for attributes.
// lang and dir last: the page says it is in a language once it is.
export function translatePage(doc = document) {
  for (const el of doc.querySelectorAll('[data-i18n]')) if (dict[el.dataset.i18n]) el.textContent = dict[el.dataset.i18n];
  for (const el of doc.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(' ')) {
      const [attr, key] = pair.split(':');
      if (dict[key]) el.setAttribute(attr, dict[key]);
    }
  }
  doc.documentElement.dir = RTL.has(lang) ? 'rtl' : 'ltr';
  doc.documentElement.lang = lang;
}

// A language <select>: the choice is kept, and the page built again in it.
export function mountLanguagePicker(select) {
  select.replaceChildren(...Object.entries(LANGUAGES).map(([code, name]) => {
    const o = new Option(name, code, false, code === lang);
    o.lang = code;
    return o;
  }));
  select.addEventListener('change', () => {
    try { localStorage.setItem(KEY, select.value); } catch { /* private mode: this page only */ }
    location.reload();
  });
}
