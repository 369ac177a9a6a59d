// The bases of the most common passwords: entries 1 to 500 of "10-million-password-list-top-1000"
// (Mark Burnett's 10 million passwords, as published in danielmiessler/SecLists,
// Passwords/Common-Credentials), lower-cased, with leading and trailing digits and symbols removed,
// keeping letter-only bases of 4 letters or more (406 words, about 1.6 KiB gzip). A full dictionary
// would cost more than the Worker's whole bundle budget; the strength check strips the same
// decorations (and leetspeak) from a candidate before looking it up, so "P@ssw0rd2024!" is caught
// by "password". Digit-only entries are left out: the policy already demands letters.
const words = `
password qwerty dragon baseball football monkey letmein shadow master qwertyuiop mustang michael
pussy superman fuckyou qazwsx killer trustno jordan jennifer zxcvbnm asdfgh hunter buster soccer
harley batman andrew tigger sunshine iloveyou fuckme charlie robert thomas hockey ranger daniel
starwars klaster george asshole computer michelle jessica pepper zxcvbn freedom pass fuck maggie
aaaaaa ginger princess joshua cheese amanda summer love ashley nicole chelsea biteme matthew
access yankees dallas austin thunder taylor matrix william corvette hello martin heather secret
fucker merlin diamond qwer gfhjkm hammer silver anthony justin test bailey patrick internet
scooter orange golfer cookie richard samantha bigdog guitar jackson whatever mickey chicken sparky
snoopy maverick phoenix camaro sexy peanut morgan welcome falcon cowboy ferrari samsung andrea
smokey steelers joseph mercedes dakota arsenal eagles melissa boomer booboo spider nascar monster
tigers yellow xxxxxx gateway marina diablo bulldog compaq purple hardcore banana junior hannah
porsche lakers iceman money cowboys london tennis coffee scooby miller boston fuckoff brandon
yamaha chester mother forever johnny edward oliver redsox player nikita knight fender barney
midnight please brandy chicago badboy iwantu slayer rangers charles angel flower bigdaddy rabbit
wizard bigdick jasper enter rachel chris steven winner adidas victoria natasha jasmine winter
prince panties marine ghbdtn fishing cocacola casper james raiders marlboro gandalf asdfasdf
crystal sexsex golden blowme bigtits panther lauren angela bitch spanky angels madison winston
shannon mike toyota blowjob canada sophie apples dick tiger razz pokemon qazxsw qwaszx muffin
johnson murphy cooper jonathan liverpoo david danielle jackie turtle horny abcd scorpion qazwsxedc
butter carlos dennis slipknot booger asdf black startrek cameron newyork rainbow nathan john
rocket viking redskins butthead asdfghjkl sierra peaches gemini doctor wilson sandra helpme
qwertyui victor florida dolphin pookie captain tucker blue liverpool theman bandit dolphins maddog
packers jaguar lovers nicholas united tiffany maxwell zzzzzz nirvana jeremy suckit stupid porn
monica elephant giants jackass hotdog rosebud success debbie mountain xxxxxxxx warrior albert
metallic lucky azerty shithead alex bond alexis samson willie scorpio bonnie gators benjamin
voodoo driver dexter jason calvin freddy creative sydney rush asdfghjk bubba trouble gunner happy
fucking gordon legend jessie stella qwert eminem arthur apple nissan bullshit bear america nothing
parker rebecca qweqwe garfield beavis jack asdasd december magic apollo skippy girls kitten golf
copper braves shelby godzilla beaver fred tomcat august buddy airborne lifehack qqqqqq brooklyn
animal platinum phantom online xavier darkness blink power fish green voyager police travis heaven
snowball lover abcdef pakistan walter playboy blazer cricket sniper hooters donkey willow loveme
saturn therock
`;

export const commonPasswords: ReadonlySet<string> = new Set(words.split(/\s+/).filter(Boolean));
