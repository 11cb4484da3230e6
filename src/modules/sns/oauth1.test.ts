import { describe, expect, it } from 'vitest';
import { hmacSha1Signature, percentEncode, signRequest, signatureBaseString } from './oauth1.js';

// The worked example of X's developer documentation, "Creating a signature".
const X_DOCS = {
  credentials: {
    consumerKey: 'xvz1evFS4wEEPTGEFPHBog',
    consumerSecret: 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
    accessToken: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
    accessTokenSecret: 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE',
  },
  nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg',
  timestamp: 1318622958,
  baseString:
    'POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26' +
    'oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26' +
    'oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26' +
    'oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26' +
    'status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521',
  signature: 'hCtSmYh+iHYCEqBWrE7C7hYmtUk=',
};

describe('OAuth 1.0a signing', () => {
  it("reproduces the signature of X's documented example", () => {
    const signed = signRequest({
      method: 'POST',
      url: 'https://api.twitter.com/1.1/statuses/update.json?include_entities=true',
      credentials: X_DOCS.credentials,
      formParams: [['status', 'Hello Ladies + Gentlemen, a signed OAuth request!']],
      nonce: X_DOCS.nonce,
      timestamp: X_DOCS.timestamp,
    });
    expect(signed.baseString).toBe(X_DOCS.baseString);
    expect(signed.signature).toBe(X_DOCS.signature);
    expect(signed.authorization).toBe(
      'OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", ' +
        'oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", ' +
        'oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D", oauth_signature_method="HMAC-SHA1", ' +
        'oauth_timestamp="1318622958", oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", ' +
        'oauth_version="1.0"',
    );
    expect(hmacSha1Signature(X_DOCS.baseString, X_DOCS.credentials.consumerSecret, X_DOCS.credentials.accessTokenSecret)).toBe(
      X_DOCS.signature,
    );
  });

  it('builds the base string of RFC 5849 §3.4.1.1 (query decoding, duplicate names, empty values)', () => {
    const base = signatureBaseString('POST', 'http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b', [
      ['oauth_consumer_key', '9djdj82h48djs9d2'],
      ['oauth_token', 'kkk9d7dh3k39sjv7'],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_timestamp', '137131201'],
      ['oauth_nonce', '7d8f3e4a'],
      ['c2', ''], // body "c2&a3=2+q", form-decoded
      ['a3', '2 q'],
    ]);
    expect(base).toBe(
      'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26' +
        'c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26' +
        'oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7',
    );
  });

  it('normalises the base string URI: lower-case host, no default port', () => {
    expect(signatureBaseString('post', 'HTTPS://API.X.COM:443/2/tweets', [])).toBe('POST&https%3A%2F%2Fapi.x.com%2F2%2Ftweets&');
    expect(signatureBaseString('POST', 'http://127.0.0.1:8080/2/tweets', [])).toBe('POST&http%3A%2F%2F127.0.0.1%3A8080%2F2%2Ftweets&');
  });

  it('percent-encodes per RFC 3986, including the characters encodeURIComponent keeps', () => {
    expect(percentEncode("!*'()")).toBe('%21%2A%27%28%29');
    expect(percentEncode('-._~AZaz09')).toBe('-._~AZaz09');
    expect(percentEncode('お知らせ ☃')).toBe('%E3%81%8A%E7%9F%A5%E3%82%89%E3%81%9B%20%E2%98%83');
    expect(percentEncode('a+b=c&d')).toBe('a%2Bb%3Dc%26d');
  });

  it('makes a fresh nonce per request, so two signatures of the same request differ', () => {
    const input = { method: 'POST', url: 'https://api.x.com/2/tweets', credentials: X_DOCS.credentials, timestamp: 1 };
    const a = signRequest(input);
    const b = signRequest(input);
    expect(a.signature).not.toBe(b.signature);
    expect(a.authorization).toMatch(/oauth_nonce="[A-Za-z0-9]{32,}"/);
  });
});
