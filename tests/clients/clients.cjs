// Two JavaScript Mastodon client libraries that many apps are built on, against a real microblog server.
//
//   node clients.cjs URL CLIENT_ID CLIENT_SECRET CODE CODE
//
// Run by tests/test_js_clients.py, which registers the app and consents in the browser's place, giving
// an authorization code for each library.  Each library trades its code for a token, reads and writes
// with it, and revokes it as its "log out" does; what each saw is printed as one JSON object.
"use strict";

const megalodon = require("megalodon");
const { createOAuthAPIClient, createRestAPIClient } = require("masto");

const OOB = "urn:ietf:wg:oauth:2.0:oob";

async function status(call) {
  try {
    await call();
    return 200;
  } catch (error) {
    return (error.response && error.response.status) || error.statusCode || String(error);
  }
}

async function withMegalodon(url, clientId, clientSecret, code, seen) {
  seen.detected = await megalodon.detector(url);
  const anonymous = megalodon.default(seen.detected, url);
  const token = await anonymous.fetchAccessToken(clientId, clientSecret, code, OOB);
  const client = megalodon.default(seen.detected, url, token.access_token);
  const me = (await client.verifyAccountCredentials()).data;
  seen.megalodonUser = [me.username, me.id];
  const posted = (await client.postStatus("Hello from megalodon #clients")).data;
  const reply = (await client.postStatus("And a reply", { in_reply_to_id: posted.id })).data;
  seen.megalodonReplyTo = [reply.in_reply_to_id, reply.in_reply_to_account_id];
  seen.megalodonHome = (await client.getHomeTimeline()).data.map((s) => s.id);
  seen.megalodonPosted = [posted.id, reply.id];
  // megalodon 10 has no grouped notifications; its ungrouped ones carry group_key now and still read.
  seen.megalodonNotifications = (await client.getNotifications()).data.map((n) => n.type);
  await anonymous.revokeToken(clientId, clientSecret, token.access_token);
  seen.megalodonAfterRevoke = await status(() => client.verifyAccountCredentials());
}

async function withMasto(url, clientId, clientSecret, code, seen) {
  const oauth = createOAuthAPIClient({ url });
  const token = await oauth.token.create({ grantType: "authorization_code", clientId, clientSecret, code, redirectUri: OOB });
  const rest = createRestAPIClient({ url, accessToken: token.accessToken });
  seen.mastoUser = (await rest.v1.accounts.verifyCredentials()).username;
  const posted = await rest.v1.statuses.create({ status: "Hello from masto #clients" });
  seen.mastoPosted = posted.id;
  seen.mastoTag = (await rest.v1.timelines.tag.$select("clients").list()).map((s) => s.id);
  await withMastoGroups(rest, seen);
  await oauth.revoke({ clientId, clientSecret, token: token.accessToken });
  seen.mastoAfterRevoke = await status(() => rest.v1.accounts.verifyCredentials());
}

// Grouped notifications (Mastodon 4.3, masto.v2.notifications): a page, the pages the Link header
// leads to, one group, its accounts, the unread count, and dismissing the group.
async function withMastoGroups(rest, seen) {
  const shape = (g) => [g.type, g.notificationsCount, g.sampleAccountIds, g.statusId ?? null, g.groupKey];
  const page = await rest.v2.notifications.list({ types: ["favourite", "follow"], groupedTypes: ["favourite", "follow"] });
  seen.mastoGroups = page.notificationGroups.map(shape);
  seen.mastoGroupAccounts = page.accounts.map((a) => a.username);
  seen.mastoGroupStatuses = page.statuses.map((s) => s.id);
  seen.mastoGroupPages = [];
  for await (const each of rest.v2.notifications.list({ limit: 1, types: ["favourite", "follow"] })) {
    seen.mastoGroupPages.push(each.notificationGroups.map((g) => g.groupKey));
    if (seen.mastoGroupPages.length > 3) break;
  }
  const liked = page.notificationGroups.find((g) => g.type === "favourite").groupKey;
  const group = rest.v2.notifications.$select(liked);
  seen.mastoGroup = (await group.fetch()).notificationGroups.map(shape);
  seen.mastoGroupAccountsOf = (await group.accounts.fetch()).map((a) => a.username);
  seen.mastoUnread = (await rest.v2.notifications.unreadCount.fetch({ types: ["follow"] })).count;
  const partial = await rest.v2.notifications.list({ types: ["favourite"], expandAccounts: "partial_avatars" });
  seen.mastoPartial = partial.partialAccounts.map((a) => a.acct);
  await group.dismiss();
  seen.mastoAfterDismiss = await status(() => group.fetch());
}

async function main() {
  const [url, clientId, clientSecret, megalodonCode, mastoCode] = process.argv.slice(2);
  const seen = {};
  try {
    await withMegalodon(url, clientId, clientSecret, megalodonCode, seen);
    await withMasto(url, clientId, clientSecret, mastoCode, seen);
  } catch (error) {
    seen.error = String(error) + (error.response ? ` ${error.response.status} ${JSON.stringify(error.response.data)}` : "");
  }
  process.stdout.write(JSON.stringify(seen) + "\n");
}

main();
