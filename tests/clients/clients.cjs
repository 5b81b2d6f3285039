// Two JavaScript Mastodon client libraries that many apps are built on, against a real microblog server.
//
//   node clients.cjs URL CLIENT_ID CLIENT_SECRET CODE CODE FOLLOWED_TOKEN
//
// Run by tests/test_js_clients.py, which registers the app and consents in the browser's place, giving
// an authorization code for each library.  Each library trades its code for a token, reads and writes
// with it, opens the user's stream (both stream over Mastodon's WebSocket only) and waits there for a
// post by someone the user follows (made with FOLLOWED_TOKEN), then revokes its token as its "log out"
// does; what each saw is printed as one JSON object.
"use strict";

const megalodon = require("megalodon");
const { createOAuthAPIClient, createRestAPIClient, createStreamingAPIClient } = require("masto");

const OOB = "urn:ietf:wg:oauth:2.0:oob";
const WAIT_MS = 15000;

function timeout(ms, what) {
  return new Promise((_resolve, reject) => setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Post as the followed person (a plain API call: the libraries under test are the readers).
async function postAsFollowed(url, token, text) {
  const response = await fetch(`${url}/api/v1/statuses`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ status: text }),
  });
  if (!response.ok) {
    throw new Error(`posting as the followed person: ${response.status} ${await response.text()}`);
  }
  return (await response.json()).id;
}

async function status(call) {
  try {
    await call();
    return 200;
  } catch (error) {
    return (error.response && error.response.status) || error.statusCode || String(error);
  }
}

// megalodon opens the stream in its URL (?stream=user): once connected, the stream is live.
async function streamWithMegalodon(client, url, followedToken, seen) {
  const stream = await client.userStreaming();
  try {
    await Promise.race([new Promise((resolve) => stream.once("connect", resolve)), timeout(WAIT_MS, "megalodon connect")]);
    const arrived = new Promise((resolve) =>
      stream.on("update", (status) => {
        if (status.content.includes("Streamed to megalodon")) resolve([status.id, status.account.username]);
      }),
    );
    const posted = await postAsFollowed(url, followedToken, "Streamed to megalodon");
    seen.megalodonStreamed = [posted, ...(await Promise.race([arrived, timeout(WAIT_MS, "megalodon update")]))];
  } finally {
    stream.stop();
  }
}

async function withMegalodon(url, clientId, clientSecret, code, followedToken, seen) {
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
  // Paging home two at a time, by max_id, as megalodon's callers do; and searching (the index lags a moment).
  seen.megalodonHomePages = [];
  let older = undefined;
  for (let n = 0; n < 6; n++) {
    const page = (await client.getHomeTimeline({ limit: 2, max_id: older })).data;
    if (page.length === 0) break;
    seen.megalodonHomePages.push(page.map((s) => s.id));
    older = page[page.length - 1].id;
  }
  seen.megalodonSearch = await eventually(
    async () => (await client.search("megalodon", { type: "statuses" })).data.statuses.map((s) => s.id),
    (ids) => ids.includes(posted.id),
  );
  // megalodon 10 has no grouped notifications; its ungrouped ones carry group_key now and still read.
  seen.megalodonNotifications = (await client.getNotifications()).data.map((n) => n.type);
  await streamWithMegalodon(client, url, followedToken, seen);
  await anonymous.revokeToken(clientId, clientSecret, token.access_token);
  seen.megalodonAfterRevoke = await status(() => client.verifyAccountCredentials());
}

// masto.js subscribes with a message, which Mastodon never answers: post until the update comes.
async function streamWithMasto(rest, accessToken, url, followedToken, seen) {
  const instance = await rest.v2.instance.fetch();
  const streaming = createStreamingAPIClient({ streamingApiUrl: instance.configuration.urls.streaming, accessToken });
  const subscription = streaming.user.subscribe();
  try {
    const arrived = (async () => {
      for await (const event of subscription) {
        if (event.event === "update" && event.payload.content.includes("Streamed to masto")) {
          return [event.payload.id, event.payload.account.username, event.stream];
        }
      }
    })();
    const posted = [];
    let got;
    for (let attempt = 0; attempt < 5 && got === undefined; attempt++) {
      posted.push(await postAsFollowed(url, followedToken, `Streamed to masto ${attempt}`));
      got = await Promise.race([arrived, sleep(3000)]);
    }
    if (got === undefined) {
      throw new Error("masto.js: no update on the user stream");
    }
    seen.mastoStreamed = [posted.includes(got[0]), ...got.slice(1)];
  } finally {
    subscription.unsubscribe();
    streaming.close();
  }
}

async function withMasto(url, clientId, clientSecret, code, followedToken, seen) {
  const oauth = createOAuthAPIClient({ url });
  const token = await oauth.token.create({ grantType: "authorization_code", clientId, clientSecret, code, redirectUri: OOB });
  const rest = createRestAPIClient({ url, accessToken: token.accessToken });
  seen.mastoUser = (await rest.v1.accounts.verifyCredentials()).username;
  const posted = await rest.v1.statuses.create({ status: "Hello from masto #clients" });
  seen.mastoPosted = posted.id;
  seen.mastoTag = (await rest.v1.timelines.tag.$select("clients").list()).map((s) => s.id);
  // Paging home through the Link header, two at a time; searching.
  seen.mastoHomePages = [];
  for await (const page of rest.v1.timelines.home.list({ limit: 2 })) {
    seen.mastoHomePages.push(page.map((s) => s.id));
    if (seen.mastoHomePages.length > 5) break;
  }
  seen.mastoSearch = await eventually(
    async () => (await rest.v2.search.list({ q: "masto", type: "statuses" })).statuses.map((s) => s.id),
    (ids) => ids.includes(posted.id),
  );
  await withMastoGroups(rest, seen);
  await streamWithMasto(rest, token.accessToken, url, followedToken, seen);
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

// Logging in with a password (the grant bots use), as masto.js sends it: JSON.
async function withMastoPassword(url, clientId, clientSecret, email, password, seen) {
  const oauth = createOAuthAPIClient({ url });
  const token = await oauth.token.create({ grantType: "password", clientId, clientSecret, username: email, password, scope: "read write" });
  const rest = createRestAPIClient({ url, accessToken: token.accessToken });
  seen.mastoPasswordUser = (await rest.v1.accounts.verifyCredentials()).username;
  seen.mastoWrongPassword = await status(() =>
    oauth.token.create({ grantType: "password", clientId, clientSecret, username: email, password: "wrong", scope: "read" }),
  );
  await oauth.revoke({ clientId, clientSecret, token: token.accessToken });
  seen.mastoPasswordAfterRevoke = await status(() => rest.v1.accounts.verifyCredentials());
}

// Ask again until the answer is as expected (or ten times): the search index follows a post within a second.
async function eventually(ask, ok) {
  let answer;
  for (let n = 0; n < 10; n++) {
    answer = await ask();
    if (ok(answer)) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return answer;
}

async function main() {
  const [url, clientId, clientSecret, megalodonCode, mastoCode, followedToken, email, password] = process.argv.slice(2);
  const seen = {};
  try {
    await withMastoPassword(url, clientId, clientSecret, email, password, seen);
    await withMegalodon(url, clientId, clientSecret, megalodonCode, followedToken, seen);
    await withMasto(url, clientId, clientSecret, mastoCode, followedToken, seen);
  } catch (error) {
    seen.error = String(error) + (error.response ? ` ${error.response.status} ${JSON.stringify(error.response.data)}` : "") + ` ${error.stack}`;
  }
  // Then exit: a library's reconnect timer must not keep the process waiting.
  process.stdout.write(JSON.stringify(seen) + "\n", () => process.exit(0));
}

main();
