// The standard PAC functions (Netscape 1996, Microsoft's IPv6 "Ex" extension), written for model-egress.
// Everything that touches the outside world (DNS, our address, the clock) is a native function supplied by
// PacFunctions: __dnsResolveAll, __myAddresses, __now, __inPrefix. The script has no other way out.

function isPlainHostName(host) {
    host = String(host);
    return host.indexOf('.') < 0 && host.indexOf(':') < 0;
}

function dnsDomainIs(host, domain) {
    host = String(host).toLowerCase();
    domain = String(domain).toLowerCase();
    return host.length >= domain.length && host.substring(host.length - domain.length) === domain;
}

function localHostOrDomainIs(host, hostdom) {
    host = String(host).toLowerCase();
    hostdom = String(hostdom).toLowerCase();
    return host === hostdom || hostdom.lastIndexOf(host + '.', 0) === 0;
}

function dnsDomainLevels(host) {
    return String(host).split('.').length - 1;
}

function shExpMatch(str, shexp) {
    var s = String(shexp).replace(/[\\^$+.()|{}\[\]]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    return new RegExp('^' + s + '$').test(String(str));
}

function __ipv4(text) {
    var m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(String(text));
    if (!m) return -1;
    for (var i = 1; i <= 4; i++) if (Number(m[i]) > 255) return -1;
    return ((Number(m[1]) * 256 + Number(m[2])) * 256 + Number(m[3])) * 256 + Number(m[4]);
}

function dnsResolve(host) {
    var all = __dnsResolveAll(String(host));
    for (var i = 0; i < all.length; i++) if (__ipv4(all[i]) >= 0) return all[i];
    return null;
}

function isResolvable(host) {
    return dnsResolve(host) !== null;
}

function myIpAddress() {
    var all = __myAddresses();
    for (var i = 0; i < all.length; i++) if (__ipv4(all[i]) >= 0) return all[i];
    return '127.0.0.1';
}

function isInNet(host, pattern, mask) {
    var ip = __ipv4(host) >= 0 ? String(host) : dnsResolve(host);
    if (ip === null) return false;
    var a = __ipv4(ip), p = __ipv4(pattern), m = __ipv4(mask);
    if (a < 0 || p < 0 || m < 0) return false;
    // 32-bit unsigned arithmetic without bit operators' sign trouble
    for (var bit = 0; bit < 32; bit++) {
        var w = Math.pow(2, 31 - bit);
        var mb = Math.floor(m / w) % 2;
        if (mb === 1 && Math.floor(a / w) % 2 !== Math.floor(p / w) % 2) return false;
    }
    return true;
}

// Microsoft's IPv6-aware extension: lists are "a;b;c" strings.
function dnsResolveEx(host) {
    return __dnsResolveAll(String(host)).join(';');
}

function isResolvableEx(host) {
    return __dnsResolveAll(String(host)).length > 0;
}

function myIpAddressEx() {
    return __myAddresses().join(';');
}

function isInNetEx(host, prefix) {
    var ips = __isLiteral(host) ? [String(host)] : __dnsResolveAll(String(host));
    for (var i = 0; i < ips.length; i++) if (__inPrefix(ips[i], String(prefix))) return true;
    return false;
}

function sortIpAddressList(list) {
    var parts = String(list).split(';');
    var v4 = [], v6 = [];
    for (var i = 0; i < parts.length; i++) {
        var p = parts[i].replace(/^\s+|\s+$/g, '');
        if (p === '') continue;
        if (!__isLiteral(p)) return false;
        (p.indexOf(':') >= 0 ? v6 : v4).push(p);
    }
    return v6.sort().concat(v4.sort()).join(';');
}

function getClientVersion() {
    return '1.0';
}

var __DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
var __MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

// [year, month 0-11, day 1-31, weekday 0-6, hours, minutes, seconds], local time or GMT.
function __parts(gmt) {
    return __now(gmt === true);
}

function __isGmt(args) {
    return args.length > 0 && String(args[args.length - 1]).toUpperCase() === 'GMT';
}

function weekdayRange() {
    var gmt = __isGmt(arguments);
    var n = arguments.length - (gmt ? 1 : 0);
    if (n < 1) return false;
    var d1 = __DAYS.indexOf(String(arguments[0]).toUpperCase());
    var d2 = n >= 2 ? __DAYS.indexOf(String(arguments[1]).toUpperCase()) : d1;
    if (d1 < 0 || d2 < 0) return false;
    var today = __parts(gmt)[3];
    return d1 <= d2 ? (today >= d1 && today <= d2) : (today >= d1 || today <= d2);
}

function __inRange(lo, value, hi) {
    return lo <= hi ? (value >= lo && value <= hi) : (value >= lo || value <= hi);
}

// dateRange(day) | (day1, day2) | (month) | (month1, month2) | (year) | (year1, year2) |
// (day1, month1, day2, month2) | (month1, year1, month2, year2) | (day1, month1, year1, day2, month2, year2) [, "GMT"]
function dateRange() {
    var gmt = __isGmt(arguments);
    var n = arguments.length - (gmt ? 1 : 0);
    var now = __parts(gmt);
    var a = [];
    for (var i = 0; i < n; i++) a.push(arguments[i]);
    function month(v) { return __MONTHS.indexOf(String(v).toUpperCase()); }
    function isYear(v) { return typeof v === 'number' && v > 31; }
    function isDay(v) { return typeof v === 'number' && v >= 1 && v <= 31; }
    var y = now[0], mo = now[1], d = now[2];
    if (n === 1) {
        if (month(a[0]) >= 0) return mo === month(a[0]);
        if (isYear(a[0])) return y === a[0];
        return d === a[0];
    }
    if (n === 2) {
        if (month(a[0]) >= 0 && month(a[1]) >= 0) return __inRange(month(a[0]), mo, month(a[1]));
        if (isYear(a[0]) && isYear(a[1])) return y >= a[0] && y <= a[1];
        if (isDay(a[0]) && isDay(a[1])) return __inRange(a[0], d, a[1]);
        return false;
    }
    if (n === 4) {
        if (isDay(a[0]) && month(a[1]) >= 0) { // day1 month1 day2 month2
            return __inRange(month(a[1]) * 100 + a[0], mo * 100 + d, month(a[3]) * 100 + a[2]);
        }
        if (month(a[0]) >= 0 && isYear(a[1])) { // month1 year1 month2 year2
            var v = y * 12 + mo;
            return v >= a[1] * 12 + month(a[0]) && v <= a[3] * 12 + month(a[2]);
        }
        return false;
    }
    if (n === 6) {
        var v6 = (y * 12 + mo) * 100 + d;
        return v6 >= (a[2] * 12 + month(a[1])) * 100 + a[0] && v6 <= (a[5] * 12 + month(a[4])) * 100 + a[3];
    }
    return false;
}

// timeRange(hour) | (hour1, hour2) | (h1, m1, h2, m2) | (h1, m1, s1, h2, m2, s2) [, "GMT"]
function timeRange() {
    var gmt = __isGmt(arguments);
    var n = arguments.length - (gmt ? 1 : 0);
    var now = __parts(gmt);
    var a = [];
    for (var i = 0; i < n; i++) a.push(Number(arguments[i]));
    var secs = now[4] * 3600 + now[5] * 60 + now[6];
    if (n === 1) return now[4] === a[0];
    if (n === 2) return a[0] <= a[1] ? (now[4] >= a[0] && now[4] < a[1]) : (now[4] >= a[0] || now[4] < a[1]);
    var lo, hi;
    if (n === 4) { lo = a[0] * 3600 + a[1] * 60; hi = a[2] * 3600 + a[3] * 60 + 59; }
    else if (n === 6) { lo = a[0] * 3600 + a[1] * 60 + a[2]; hi = a[3] * 3600 + a[4] * 60 + a[5]; }
    else return false;
    return __inRange(lo, secs, hi);
}

function alert(message) {}
