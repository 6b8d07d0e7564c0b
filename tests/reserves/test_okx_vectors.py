"""OKX's published vectors, row by row (okx/proof-of-reserves: `common/crypto_test.go`,
`common/verify_test.go`, `example/*.csv`): each verifies with the scheme OKX's tool uses, and no altered
copy (another message, a flipped signature byte, another network) does."""

from __future__ import annotations

import pytest

from zkpor.reserves.rows import ReserveRow
from zkpor.reserves.schemes import check_row

OKX = "I am an OKX address"
A_OKX = "I am a OKX address"  # sic: two of OKX's Bitcoin vectors sign this spelling
HELLO = "hello world"
AUP = "OKC_DTT_AUP2025"

# (network, address, message, signature1, signature2, public key or redeem script, scheme it must name)
VECTORS = [
    # --- Bitcoin family: BIP-137 base64, multisig redeem scripts --------------------------------
    (
        "BTC",
        "1DcT5Wij5tfb3oVViF8mA8p4WrG98ahZPT",
        OKX,
        "IA1jDx3zkn4J4F6mCVU68Vm7TwNf+bCsp+hKo3LwV/Y+PlZEoNsajnAHqd/FrEmv5/VAGz7pPiWPOXjmCLRfxIM=",
        "",
        "",
        "P2PKH",
    ),
    (
        "BTC",
        "3Fs7C97NmvhWUZ2pSjth9YbTxMv4sk9nHi",
        A_OKX,
        "H2vshvcYTGrUw0XG1AundmbivdrhTWUOTqcXKhN+MqbaEfVYfGkgDhEumiJoEJFhlzuma6bBpg4pXNUHoTENOPI=",
        "H1eFA8Y2woAnDqxamcLDMVDr4Jd8g6PiagExWCyzvZNZU8xZ2TKV2RNcbXArRgUfniLzgJFvzmBEUC6vgM5bd7A=",
        "522103447bead626f13c79de937c0879b64172e5984456a47350b44e8bd23a02e6895e2103864969c155d42c5f61999bcaafeadfc8574b033142f03b5bf3025c6794570b952103304fa164de84f710e44a563f5038d355d6a36a1d7f25695cba884f0b4b6d184653ae",
        "2-of-3 multisig P2SH",
    ),
    (
        "BTC",
        "bc1qpypsu8sytw959yu53dk48eaq9saxumwegzwd4anava9qe40k6gfqyrsxaq",
        A_OKX,
        "IKfykjJJSywz2g/KGXvWwE1aphUvryiBaNQYK0m4Ain7QkNhM7VjwV964DPn4dvpOGyzhQYSAqLIz1BOBXbIQcY=",
        "H0FnZYEXYbmrnh8sreeUO7wL8BPPKKSPDyYvZbjn/tOCVpxnZLN3yL8lyyPHkl3NttL7WDHVx/jxG5HBLbR7T5k=",
        "522102b514e7ccc2845d3f1ca7181dacab0d1ac277616e753547922f82cc0cdfb5c691210318c30ad87d44e7c8b940b47e6963aabfda0581a1e1aac59019b9b1589179aa7a2103d7a534927a03b195a0082d53ab15145bbac8964ffb09d54869da2e59ea1b100553ae",
        "2-of-3 multisig P2WSH",
    ),
    (
        "BTC",
        "393maTY7rQScy4SmYE1XSXUSgK73byhgfA",
        AUP,
        "IDRyTg89A1N6quCCnj3jLht3Dboar6rSh/7YlhxbVN1RfVOYti0fyRcWXplLQjbPgDChthLssytrbDFVDcLA750=",
        "IJ+Wf/va772DV2ETAGxN7mo2VECUM9kQBMpUNvAJBnrgM8/o2C3+ID7Z6E5QZTS+VLCZ8Bgtym0rxcLfFLl0B+s=",
        "5221027adce0bd3080066ab90c68199ff73128b3ff8c847d15d9e4c6e88fb4c6e6486b210273fa0df3ffceeda23b0074d9fe83d9ee3a209fad6e4546fdec5ede39abcbb70d2102a38ce748c5a1e1889f0d72ecd6f2130f5f73a11e01fff9f0d22796e40217571953ae",
        "2-of-3 multisig P2SH",
    ),
    (
        "BTC",
        "bc1q82aks5ft2at48wp0sa6rr5vtzutvgzr8azts6w8nlu0dqc2dx24qvzwspk",
        AUP,
        "ICCxeipsfRZUurcUKGkXzA9p3WVrDeNzdAg1yojDRrCBGY/2fRe6Sg9F0tgQ6a4THqIJoCSIlmyxay6QQ6FSfcY=",
        "H3CfdwwB+klW7yPNpHeuQhpzxdmXEWczUSp4UziFimaLCdzg9bpw/KP+TwawJlOhD5EZS++Y1A9EU4pkps5VWRE=",
        "522103cf1f7e2d8e428e5dfc36d9eacd679a0bf7356a8e05dd02c8a9a12db36bb1c92421027b961ddea8ae2e81d47804685cf2ab820a4d59cdcb10f70adeeaf0e4d8817eae2102813215371e992904e68b3b77752898b22d89d7ca1c2562e8403040fd5e807c1453ae",
        "2-of-3 multisig P2WSH",
    ),
    (
        "BSV",
        "1Hgc1DnWHwfXFxruej4H5g3ThsCzUEwLdD",
        HELLO,
        "IDtG3XPLpiKOp4PjTzCo/ng8gm4MFTTyHeh/DaPC1XYsYaj5Jr4h8dnxmwuJtNkPkH40rEfnrrO8fgZKNOIF5iM=",
        "",
        "",
        "P2PKH",
    ),
    (
        "BSV",
        "1Hgc1DnWHwfXFxruej4H5g3ThsCzUEwLdD",
        AUP,
        "IJ+Wf/va772DV2ETAGxN7mo2VECUM9kQBMpUNvAJBnrgM8/o2C3+ID7Z6E5QZTS+VLCZ8Bgtym0rxcLfFLl0B+s=",
        "",
        "76a914b6ff746a94f1ed230af7c891bc68a8dcc45bdf4f88ac",
        "P2PKH",
    ),
    (
        "DOGE",
        "9vbpNnyNRZpSWzptDwxGhw2Vny2yJ4W9V2",
        OKX,
        "H/Oog7EXWzpoR7CA4yV6k5IYH+aQreIxHuMmBTH53ucWVKLn8F7lLJNNPwe67ElPYr49Ox2PpXyExr+W9+pYIgw=",
        "H3LGI7d7ZIMSRf+S9TrfdUrTM+tPA21MRnLyANqaH3LwWzSZAZtxJo4dGZs8JSL7dPkM9NWtMg7bTlLN8pIU0iE=",
        "5221037c660ee71005b5e991068021448ed61a650ef018f56c4614b28ae4618169107c2103aa2fdc3e4a5207c68d452dc42f615dee425eea6c2b7ef61f8a677fbff076fa9a2103d23a7924f45f3288816b91fdaba88ea688020b364bf55e506d21f8c8787dd71853ae",
        "2-of-3 multisig P2SH",
    ),
    (
        "DOGE",
        "9yo2KJc1vUKWsRpExMfwgf6pNtV5gG3vqW",
        AUP,
        "H7UaLfjDn/VCq9dXpaQ7c5bwvrLi3D+3+wh1xBu7jKkrInQosKZC6c0oaR9Kl01T0WIm70h9rA2KkyivTZB4fFw=",
        "IBRzablLv1KsJCyZnGE1DZLUP+o2gghRspnZbzmE56egf64Od0MmvFdBtfqajGyLoZwhkXjp62nm+I5U4LtJg5w=",
        "5221027adce0bd3080066ab90c68199ff73128b3ff8c847d15d9e4c6e88fb4c6e6486b210273fa0df3ffceeda23b0074d9fe83d9ee3a209fad6e4546fdec5ede39abcbb70d2102a38ce748c5a1e1889f0d72ecd6f2130f5f73a11e01fff9f0d22796e40217571953ae",
        "2-of-3 multisig P2SH",
    ),
    (
        "DOGE",
        "AB98NMrZQ48RAj7jRS7L7AcT6d8SCvu2Uq",
        AUP,
        "ICIByz72Kv9dDYC/0m85B+50FnZSG08Zw9Ll22HX1omVbFXQFXas2+E+QuTc9BcIUy1cqt7JogICQOMa5sdX4ek=",
        "H7Sp60puyJSnxMO3y2IPAyIRIJqUr6vfm8oNarS1zPUMBqpLrryL4Bli9ymQWpsHyL6sPm6AuhRsTJtLfST7Lfc=",
        "5221020b65f1fd63f160d509740c03d4f8f13eb16bc50c6df3cc2e3b19420faad235b621024f32d5d4d361270b65cf9b838833635ebfad40d9b0e37b12b9fd6281083143f821031423c97389660dc5104f75b64c64d1af05a6c21516a1f3a6fe93e14e9ba5801653ae",
        "2-of-3 multisig P2SH",
    ),
    (
        "DASH",
        "7XswsaSt9HtGfrLvboEEzhsmPBSSky1mnu",
        OKX,
        "INc+CF8jxNHTyJvnWzbsUe98mRA9eywBVuK1Dd1YTzLgTKiUa8dwfror+px/hlK/hHQ0R7saUi28ijQRCwYJWA0=",
        "IFMFCCk781/sT/oHoUxL5oZpqQZlImQrhJ3odvkVWARcaK4EAl3XPEA/IVgxh6VaSLmMP/Wno1dxWdmxe2gcs3U=",
        "522102f5c9ab0dd178eb44cd6baae7c1698ae23caec399d58da93a32509665113152742103729f817997a0442e6a39ee0c15f0cd3a17e55ef768ae6f055b2c323a1cba9eb121021e6568b58ef452791f56d0ba2f2ea1200c730f114ab88701833a0a2cf77ef09e53ae",
        "2-of-3 multisig P2SH",
    ),
    (
        "LTC",
        "MH7Qru4KFC6tLSiSq7bTWUDyiXERwzdqKp",
        OKX,
        "ID7R92j4VjjajZGAqRWyHVEAGLfbJZnIKD7uZVyMPYNqf3Cp0BxeFSuZ8c+weifZ8M3DBE8F2ftDV7s9XYTLPus=",
        "H2wcYS+Osohhi06wr78H4Gn8zsB9Oqw9aTRo7OEdTJNaWNGwoo+6zwsywdfUXk6IgxY7hreo0I/s8fIjHJceFdQ=",
        "522103c4a04606ac7b32924f0fc0b8aadbf925c139738701a09138bc7c42cb9a3609da21034b8b29e6f460e6293423173863a9cca093bbbd865a611abd984fd674d2537e5b210350ade45e21816652e9812bb39f55e0e8cad02a0884c3c024ab642a43cd8094a353ae",
        "2-of-3 multisig P2SH",
    ),
    (
        "LTC",
        "ltc1qzvcgmntglcuv4smv3lzj6k8szcvsrmvk0phrr9wfq8w493r096ssm2fgsw",
        OKX,
        "IGLtPax4D8T/a5YIfTjqT4hoy8j71gG+yFeKPUhH4xKTcgEFxLXrJF+2ZLgPoqKGBt+QSNH6l7RK7bIZzVIvzBA=",
        "Hzs4gdaoFHT1hfVqyi2tvoIhGiUTP/vVETd2QPtg8Uu/eGzec6oK5DvVIK0oUMC8G0dfWgrEcJM4IE7MIHS4oBc=",
        "5221024ae22b49865207865e57b5056abb1e9f6480a6621a246b7066ab84c3b7f9d2b5210255f79ad111076c25b3f6d5e2e99250b6150b1d1b6af10f860f41f63c68859704210247eb8b75b8e50a8a33a7d9ada81f3ecaa05228bfeec3274bc6520637f2eacbf553ae",
        "2-of-3 multisig P2WSH",
    ),
    (
        "LTC",
        "LectSLekhkxEQBHofNFHa3pVHndnb4Z9fN",
        OKX,
        "ILEkfsIaFagDnMq0pY9qS4yIAjTFlpDknLCVm5dhMHbnZn0SXC+Op9jQfD4wbu+Rpxs1N5ut6c2349GEM8AFx0A=",
        "",
        "",
        "P2PKH",
    ),
    (
        "LTC",
        "MFFutLx5oXJ3mZife6zsGAir11hVbmUF99",
        AUP,
        "HzQdk7Jt9N4J6xQxFQSF1Ts/m5cNLVIgYgv75eg8KjZ9fyxQgpS3f8Aywp8yd5g/IpAe36eMgBNadSbQkjATnmI=",
        "H1Ni/G3cPbjLTzn5Bmm1WDu5wPKLwCmzKzXVzwzz3EJCOREBWusePO3ZYvAoVALuVBurKHhWSLTdO6sZw5A43oM=",
        "5221027adce0bd3080066ab90c68199ff73128b3ff8c847d15d9e4c6e88fb4c6e6486b210273fa0df3ffceeda23b0074d9fe83d9ee3a209fad6e4546fdec5ede39abcbb70d2102a38ce748c5a1e1889f0d72ecd6f2130f5f73a11e01fff9f0d22796e40217571953ae",
        "2-of-3 multisig P2SH",
    ),
    (
        "BCHN",
        "3EniMkZiTiCcKsyKGxJbizi5zgPLkkpdYB",
        OKX,
        "Hzm4HO21jFamx/+AiVgH5+8MNbFLIpyYIgVUdEc/eDGBVaaNpOgmvigZjcFDikzw97BUMUTGLL00TT5PKSAX/0M=",
        "IDgJJKiWo38ujfYIeYx8yiHBmlmzCc7c2yIrUb6Xqep0FnnHMyBhySdnBan8rjs+csO9K6GkGsNNs4p6QY9iIg8=",
        "52210318af2bec99f512a736c88fa30a5711c16652591510b9d388af553f3644372af121035bfe589cb7086355f9ab44655c8d700f8e7ba2d90116658682130587eb35b0b5210306913a183d6b4cb7c38a99fdcfd3be24fb171b50de065c8ed0e759ee09d7267453ae",
        "2-of-3 multisig P2SH",
    ),
    # --- EVM: EIP-191 over keccak256(message), as OKX's tool hashes it ----------------------------
    (
        "ETH",
        "0x52b311c52436789f3754bd199bf3886b8ccbab4c",
        OKX,
        "0x98767aedf0ed8bad7413e7c2e6b134ae6baaf5d913c9a8e2659b93922edfbca90cf5fc97e6385aec280a2b7dcdf7d2a95e91f0d99632ab7ed0c167e5628d3d841c",
        "",
        "",
        "EIP-191",
    ),
    (
        "BSC",
        "0x07e47ed3c5a8ff59fb5d1df4051c34da67fc5547",
        HELLO,
        "0x9c271461e5876fac4e5a02aee7a877831a91cee6a24b75cafd8650ac72b2a5e5147e2e90558d4e38d113ff54e734f041687f41268d55ff7850791e1e2833dc061b",
        "",
        "",
        "EIP-191",
    ),
    (
        "ETH",
        "0x8c3cb9665833fd9f79eb14cba16d82bbab6f22d8",
        OKX,
        "0xc75173a3ca53bcfeb7b2bfc16aed036191436085fe1a5c846f7021ae2baf5f81646b5089822399b6ee076bb59974ec6bd425954ca97bff084a74efeca0c8c8c61c",
        "",
        "",
        "EIP-191",
    ),
    (
        "ETH",
        "0xa28062bd708ce49e9311d6293def7df63f2b0816",
        "I am an Okcoin address",
        "0x462950c4dbbc0f2fb36002ba7e5c2a98dfae7d89203f4dbf152e03304edb444d670c8bbacb78072c4dc1184db245401c73ee1395715afbb8dd600ba6a63e3abc1b",
        "",
        "",
        "EIP-191",
    ),
    (
        "FIL-EVM",
        "f410fa7sh5u6fvd7vt625dx2akhbu3jt7yvkhgdp55ki",
        HELLO,
        "0x9c271461e5876fac4e5a02aee7a877831a91cee6a24b75cafd8650ac72b2a5e5147e2e90558d4e38d113ff54e734f041687f41268d55ff7850791e1e2833dc061b",
        "",
        "",
        "Filecoin f410",
    ),
    (
        "FIL-EVM",
        "f410f3py2r3kh22yh7ona3fyp2tyzhxo4p2okiwuqjza",
        OKX,
        "0x05168f6ede2213bebae69256ad78cfcf4f3a99d4b11bacd4a24ec2171becb34e2f690c515e3b1227a52e7e7c4dd99dd0f307c167f768b2201bd82b69af5a112b1c",
        "",
        "",
        "Filecoin f410",
    ),
    (
        "ETH-LINEA",
        "0xd3d7dbe73bbdd5a5c7a49ca322763c4d400fc240",
        OKX,
        "0x75f1d8203bef472f4f5f2627b186eb6d700544633690f4f368ea3d6d069040ac378b84765bf4fecfc4d62d807158817a0d6f5d2ac13121aba578ff0f6880067b1c",
        "",
        "",
        "EIP-191",
    ),
    (
        "BASE",
        "0xfd92f4e91d54b9ef91cc3f97c011a6af0c2a7eda",
        OKX,
        "0x20c683960499e200a78d0f3011f821aea901e6cb26371f0d4edd8b64fbf0efb80b147346a8acfb03e037a40ad83d2ef189af3ca9f32f07e99ba644aac1d951d71b",
        "",
        "",
        "EIP-191",
    ),
    (
        "OKB-X1-USDT",
        "0x2d22604d6bbf51839c404aef5c65443e424e0945",
        OKX,
        "0x6fc4257d86eac2355cfe3998c6524e5f84af3fed014d03810b4ffca2248d076d2093afc5f4ec7bfea166fcacda81e1cf9f0f707806f9fcfd7d2e3163e456c1981b",
        "",
        "",
        "EIP-191",
    ),
    (
        "OKB-X1",
        "0x74be7cb4fadcda2e9df4dd7fa4dc3a069888838e",
        OKX,
        "0xa3632aa7bf9f83a77e85c35cee44354bed5a7b243e3814425eb2e80f809355c44f28fd1b8d53522a2b6d4387039ab47c6c4dd8b971603469b6b0ba1f9845b7b11b",
        "",
        "",
        "EIP-191",
    ),
    (
        "ETH",
        "0x07e47ed3c5a8ff59fb5d1df4051c34da67fc5547",
        AUP,
        "0xe2d351cd4617fea1cf3ad6b907f7897384b6a01cdd7db3fb23c1967bc40cae527e95690bebf9527e0882ffad3bac76e3424c91378a019997d970cd63935200861c",
        "",
        "",
        "EIP-191",
    ),
    (
        "ETH",
        "0x0cdcdb19a857c2ac24818ca4fdfe38cce071483e",
        OKX,
        "0x07f19879aa28d51c97cddfdfecffe7ed96525545d041aee4f4386b0bf4c1a26924b637fb02ccbb97305c13daa51a0f50b8896fb25ecbaf60020cde920d227a221b",
        "",
        "",
        "EIP-191",
    ),
    (
        "ETH",
        "0x6a32bea6b4050763a6673202efde42ad87bec0b5",
        AUP,
        "0x63e1ecb04bf62e1f002c28747f85d5389541c8c23042240ff44dc9a37417ac4e11fa30c66af459be9c21b39e3f9028c058d6fe5c6145f049c2a922a047bc08d91b",
        "",
        "",
        "EIP-191",
    ),
    # --- OKC: OKX's Keccak-256 envelope, 0x and ex1 addresses --------------------------------------
    (
        "OKC",
        "ex1a0ugda5r0hc3vrzu9wyfkx22vz3g2y2paegqvc",
        HELLO,
        "0xf4d27cc1407e186ae8cf5c3c4ac8c4bb7d20dda7b5de2b1b212e660cb1115f0b5c8a545ee4b18da7e8e78a6d03e094411ff82f0421dc96e364febdd4bd8b86d41c",
        "",
        "",
        "OKX envelope",
    ),
    (
        "OKC",
        "0x07e47ed3c5a8ff59fb5d1df4051c34da67fc5547",
        HELLO,
        "0x0dc53fbecb12f7e14e6eabcb5c9c4e03373318a271d984d56d984ab6b7b9494a73544be662c164490d1d958ae20caf309f0d8003847f1b68c14ead516dfaa83b1c",
        "",
        "",
        "OKX envelope",
    ),
    (
        "OKC",
        "0xeb196a61f9a1e35bf5053b65aaa57c5541dcba86",
        OKX,
        "0xe8df58ec46822f86a0a2fb547260ac55caeeb256916a8c2aabcc01cbdfc13ff264992f2127f3e1cc8e45bf936947c50c8ea097602712e6868526d7fccd9273bc1c",
        "",
        "",
        "OKX envelope",
    ),
    (
        "OKC",
        "0x4ce08ffc090f5c54013c62efe30d62e6578e738d",
        OKX,
        "0xa181d622f9a1d1aac327c026a46d11c95a44fb8994a07d232a15b79c12d225a7059db547c0a79b67605f68930d8d0f93a9939589c4fc70041e66322efc61a2421b",
        "",
        "",
        "OKX envelope",
    ),
    (
        "OKC",
        "0x4a11078a99b118bbfee78a5c187d98d264360433",
        OKX,
        "0xee5e609b94842cca32b0f482351bbd2e76e6730dfb146337a077fd03dc6219b62ed1d4e4daf243cb2ba50a12ba47e5f76b8d22e91e8a9c7d228b22a2b236a0ad1b",
        "",
        "",
        "OKX envelope",
    ),
    (
        "OKC",
        "0x07e47ed3c5a8ff59fb5d1df4051c34da67fc5547",
        AUP,
        "0x7a819fef9e4383bf165b3173da04e0b3fde7eb501f8711f29bc9a14d90a37ba337e394f9544d4d90ee65d19cfbd437b038be4d2a4aadf9da3973f9eacbc6b2001c",
        "",
        "",
        "OKX envelope",
    ),
    (
        "OKC",
        "0x5f504cd119640d5167c003ce9e4250895374b24f",
        AUP,
        "0x37265350f38f2b07edfb697cfba5ea64185f3e2916e18212fc52cc68994e61187208310782544fffda0c36acdb2268289e17971755584d6faccbcfe0850aafb11b",
        "",
        "",
        "OKX envelope",
    ),
    # --- TRON ---------------------------------------------------------------------------------------
    (
        "TRON",
        "TEjxQjU3CxkFrSDcPfHwZXSuPpCpdQ27NJ",
        HELLO,
        "0xcd1e3903dc047ea881f7da1647fa3372f37ee6a1cf0726477a20e267408af43f3f9c3a43f7f15e6bf674c9f0776866b6d6a770ce998b29cc03f11f2cb98df5821c",
        "",
        "",
        "TRON",
    ),
    (
        "TRON",
        "TEjxQjU3CxkFrSDcPfHwZXSuPpCpdQ27NJ",
        HELLO,
        "0xaddfb6bc248de8de0051d3ea225496091af596a5fffed3ee19a93c827687974d3305f869a86208e03886ec9d1423bb264405b6ef0813b3751080f82bd7a906451c",
        "",
        "",
        "TRON",
    ),
    (
        "TRON",
        "TEjxQjU3CxkFrSDcPfHwZXSuPpCpdQ27NJ",
        AUP,
        "0xb52562f78a945b7a1fcfbbc4bc19c3dc80f0ed10ba633f37266ad25dbe9100910e1a5712f2c90e61b05d10ba7c43d0fbba2a06c48d9b7425b8229c3ea617ffa31b",
        "",
        "",
        "TRON",
    ),
    (
        "TRON",
        "TSBg5SM1TXVXneSivmzpZa9hpccLNeYcWq",
        AUP,
        "0x1cf39b1080787540fa4c227d254b7b2f56d4f429ef34d89e8fb5351061e978223f0ca7bc06a3f27529b97143cd06d4a741ab815f1e08faf096df65b46d99ad7e1b",
        "",
        "",
        "TRON",
    ),
    # --- Filecoin f1, aelf: OKX's Keccak-256 envelope, key recovered ---------------------------------
    (
        "FIL",
        "f1lzszobfjwres2otlbitgpbeo6ha72sujwsdjy5i",
        HELLO,
        "0xcde439bce3471220be8d58eb09a35a8c11320f2cbaeb6714816972b044d059542acbd3618f90cbc5d4baa208105a0c0b0ebe98d4353f4ba1e2abda6a362103c81c",
        "",
        "",
        "Filecoin f1",
    ),
    (
        "FIL",
        "f1lzszobfjwres2otlbitgpbeo6ha72sujwsdjy5i",
        AUP,
        "0xbc7cbd93ae5231a94f5289cef2d161d134994a2fc626ab1863ec5a10ec89dc902f0cf695fd99308e402185d4184fc5a002074d6a31b6666b09634c0df85220b31c",
        "",
        "",
        "Filecoin f1",
    ),
    (
        "ELF",
        "2XNagboftecQgKRtgG8W5zpdRiZWinUfsfZm62a5NmmEVoZG7X",
        HELLO,
        "0x933d483f718750d43841cabff4884650221fb0425a72ac98839286927851651645b07275d9f0083622f7925300b0959762c01d8b7610818e89da7315fd0f567d1c",
        "",
        "",
        "aelf",
    ),
    # --- ed25519 chains: OKX's envelope, public key column ------------------------------------------
    (
        "SOL",
        "7bzoTJhZmpU1vQVjN63fQ3iVYmWCVgQh1sYSqsjuapU9",
        HELLO,
        "0x282c737229f72d03275ac7bc5955da027d693d90dd9e6d4c2aafcc4f272de3be0be08637552027abb68e4d2818e060846b002e490d8bbe36e6dae8b2508fd40a",
        "",
        "0x621d398b19304995ee140c21afc544d62382d387b5c08dfd096b475a304339ea",
        "Solana",
    ),
    (
        "SOL",
        "7bzoTJhZmpU1vQVjN63fQ3iVYmWCVgQh1sYSqsjuapU9",
        AUP,
        "0x81c709d6f44647a7e34c318e63c4f7e34617fa0420c9b58b071adfac3f7fb3e2ed7da6fe0b59dc7318cf471bbbe0abc873362b7cce2f269ef1f7e9ecd5716704",
        "",
        "0x621d398b19304995ee140c21afc544d62382d387b5c08dfd096b475a304339ea",
        "Solana",
    ),
    (
        "DOT",
        "15WXogcgXnHsZ1FeuNc6cg34i8R6JCXgWrDLNLERLLesJ7bf",
        HELLO,
        "0x996528cea9ae0ef66a0c1782cf281726f3e167906e9eb61161558c482f5b92b5439e0662b2b72906cd2a155903fed4b739652a4ddd97689618793e90d8f2d608",
        "",
        "0xc776bfbeeeb0b1ddd1ce6cccf55ce795f5306bf63de37d72e5af50b3be23ce49",
        "Polkadot ed25519",
    ),
    (
        "DOT",
        "15WXogcgXnHsZ1FeuNc6cg34i8R6JCXgWrDLNLERLLesJ7bf",
        AUP,
        "0x2d6149f4facd2966a3e8c229e2fad837ad35fe017d1a64c53464c325fd0fcb9726bef8f21004b689cd884f3749ce07ef08f4dceff02fd9aa96d48bd466985400",
        "",
        "0xc776bfbeeeb0b1ddd1ce6cccf55ce795f5306bf63de37d72e5af50b3be23ce49",
        "Polkadot ed25519",
    ),
    (
        "DOT",
        "12Z1EpgUskkbinZ47CdiUSdBMSvh4FVhgr6iDKfiyvEFndEa",
        AUP,
        "0x63b8adb6308fbcec5ee978527531af458c5bd9fec573f29190946225084354262c9fd68bbc72607688611c6209f25efd7a41666f5fa5d4b0bc67c0e5d44c9b0d",
        "",
        "0x44a4e37cb0fe0d92117dfb7785ea8d5fc6086cac726698e4b1cf08a473d0658c",
        "Polkadot ed25519",
    ),
    (
        "APTOS",
        "0x327dd297dfacf7c2d8207aaa23c0f0e8bcaf4c1612febbf63b9f7376810b8ec8",
        HELLO,
        "0xe5eea05d4156e1aef7867739b86f560b3b6a14a9525b53b436b5ff16ce8ca9490d4e5586ddc469b43453cf9796d87a4c4d3ead5d8dd3a2e88026713ae866e30b",
        "",
        "0x61f579fc779146304353027b425a216d8015889c5f3b715ad26135b862f3bf84",
        "Aptos ed25519",
    ),
    (
        "APTOS",
        "0x327dd297dfacf7c2d8207aaa23c0f0e8bcaf4c1612febbf63b9f7376810b8ec8",
        AUP,
        "0xe4d968ddf33366e3e085294bf80077fdb2e89243f4e4f41779e531640504ae1e3b52f5d3e1a1c8fd838a4ce07bad511d7d9438ea7515fe9629d6ec81124cce01",
        "",
        "0x61f579fc779146304353027b425a216d8015889c5f3b715ad26135b862f3bf84",
        "Aptos ed25519",
    ),
    (
        "APTOS",
        "0x4062a7375a1ab2bb8bc33d2c1cb2f6b0afa1cef98ea7a5afec7afc96675fe1d",
        OKX,
        "0xc084c15b8fcfbbf7fcc6b3a8131c885e40eccebfd53472ade25c2ba3d57f2bc1f5089d5a29d68a812477013ea948d06ef77f5894040f7026f323ffd2cdc0640b",
        "",
        "0x04d1885cf7d4add68ebf2953c1e3406c5ee0e9b9d6c07782ec6bae9fa4bd9335",
        "Aptos ed25519",
    ),
    (
        "TONCOIN-NEW",
        "EQA5rifVSCc8qQfpCXvq4zJGJPsA0EPCDoWdtg234INftsWj",
        HELLO,
        "0xaa406900fdf658e793850d7d47798fa501098db4a6697ac460c1d2800152f40174d2705f1ec87b1a0b34434647b0efed2b7b70569bc00e8bbc3561c372aacc0b",
        "",
        "0x3d2696e3d5cbc9047b338e6a56552db1d43ca6e063bc7aa667b18005984372d2",
        "TON wallet v3r2",
    ),
    (
        "TON",
        "UQB1CKrUWm7qf41Z1GeEE6AgVVj5cH6y6x1aRmWe6q4mj1fn",
        OKX,
        "0x6c5b3b11b8d4a7b356cb4e4e4a960e476d05b52824a62ef961054617b401f157ef6c01c537f3751c22ba018f97b067d508b455f6cbdf757a64ca2571e76dc004",
        "",
        "6711ba8eaa47855b01d73e3849cd93861b1c11d7a86ae5fb8f96bb63d9be5a6b",
        "TON wallet highload",
    ),
    (
        "SUI",
        "0xdf7c04c9bebf4b35bd8c66a92469f0b66cf77ce8586b6262709a897659f4e772",
        OKX,
        "0xbbccff4544b0178700273db07846c25541123fbaa70e1e0102b66b0dcfb29f2f9aad23de02195128e0e634a4cab6890bf5db1063d454a69df811040ba298be0f",
        "",
        "4b4c3343b6c3efcd579cd6d6877d5a953166f19825d595296fec109d1f5e0950",
        "SUI ed25519",
    ),
    (
        "SUI",
        "0x4c6072a97c304be864d9e187ded3ea33e83e447672054dd69cc1e2de7914b250",
        AUP,
        "0x870faf27df65e6b0a8f397b1461374d4b1843f53c0e71407316f8b0bba3e065a57742fc59924caec8f0f30be0d95a2051a73c8f0e54ba21ec1a4b8e7b7fa6e02",
        "",
        "0xd035239ebfe6e6192249a8c028cdc845aed0a469f119e200c7e2f306e5067094",
        "SUI ed25519",
    ),
    # --- XRP Ledger: OKX's published `ecdsaPub` vector (key and signature); the address is the classic
    # address of that key (OKX's vector has none) ----------------------------------------------------
    (
        "XRP",
        "rwj1wEHVxW9jPpkBhandkZFXHyZPPE4r9k",
        AUP,
        "0x3a7c6d3f6e6885c07d21bb9eeb266cdf1400ab5c1379664ca9c74c6eaf4dcbdd03895a64253f7c5da9da504548dc87bc634e571042bc74bcfb18a005d3c592531b",
        "",
        "0243eb3f77eac97882ca3a6c038830e199f1b02cbab4f8664fd08c54911b0a05e6",
        "XRPL secp256k1 (OKX envelope",
    ),
    (
        "XRP",
        "rwj1wEHVxW9jPpkBhandkZFXHyZPPE4r9k",
        AUP,
        "0x3a7c6d3f6e6885c07d21bb9eeb266cdf1400ab5c1379664ca9c74c6eaf4dcbdd03895a64253f7c5da9da504548dc87bc634e571042bc74bcfb18a005d3c592531b",
        "",
        "",
        "XRPL secp256k1 (OKX envelope",
    ),
    (
        "ADA",
        "addr1v80axvuddhj0mhlyzk9ness59ev752qvpw53fvf5xjy24yqhvxq3j",
        OKX,
        "0xac22bb399d0f93c5e17e43a8f1dd3b145e4c439546b7aa41555f434f304b05020e16ae220dd5721b8cd7f280416217ac5d0905ecb9792c712d13b4ed7b005208",
        "",
        "0x6adf88e2c6c0773abdf059e16d1800af03a44e6031dbd66e27fa31256db08b69",
        "Cardano enterprise",
    ),
    (
        "ADA",
        "addr1vykqe7mmq83jsfxu0relg46vasd5d4gr4yg5pchg5v8tuvck0jkfn",
        AUP,
        "0xefb9a223ad794dac0a791caa29909603cca6c780a0e184c69e1a13a9a4c1c0b60ae83671de4178ab7ba83131bda9210d84ffe2a4556d1891add02fdcd7181a06",
        "",
        "0x7afe9bac605a184fe32d9dfb582b9d837841f5ff99916b73dd3f705d19bbba50",
        "Cardano enterprise",
    ),
    (
        "ADA",
        "addr1v9500j9f8sgnw9uftxmuc429kyy2mduuaj3649rw779v8ks4nyrxz",
        AUP,
        "0x9dab6076e018f4275b34e9ba93aed12b960573857a1b0373387ae8407b76f510a4c545ea29fa754f29a1100d1763acad3722a8b7dd297f7516491108a1a75009",
        "",
        "0x9a2d141e5495a5430a728e29855c9c53a5656b8c059a8570544390c39b95d5e9",
        "Cardano enterprise",
    ),
]


def _row(network: str, address: str, message: str, sig1: str, sig2: str, key: str) -> ReserveRow:
    return ReserveRow(2, network, network, "1", address, "1", message, sig1, sig2, key, "", "", "", "")


def _flip(signature: str) -> str:
    """The signature with one bit of its first r/R byte changed (hex or base64 alike)."""
    if signature.startswith("0x") or all(c in "0123456789abcdef" for c in signature):
        i = 4 if signature.startswith("0x") else 2
        return signature[:i] + format(int(signature[i], 16) ^ 1, "x") + signature[i + 1 :]
    i = 3
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return signature[:i] + alphabet[alphabet.index(signature[i]) ^ 1] + signature[i + 1 :]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: f"{v[0]}-{v[1][:10]}-{v[2][:6]}")
def test_okx_vector_verifies_and_no_altered_copy_does(vector: tuple) -> None:
    network, address, message, sig1, sig2, key, scheme = vector
    _, status, got_scheme, reason, _ = check_row(_row(network, address, message, sig1, sig2, key))
    assert (status, scheme in got_scheme) == ("verified", True), (got_scheme, reason)
    assert check_row(_row(network, address, message + ".", sig1, sig2, key))[1] == "failed"
    assert check_row(_row(network, address, message, _flip(sig1), sig2, key))[1] == "failed"
    if sig2:
        assert check_row(_row(network, address, message, sig1, _flip(sig2), key))[1] == "failed"


def test_wrong_network_never_verifies() -> None:
    """The same published signatures under another network's name: refused, never counted. (An EIP-191
    signature names no chain, so it proves the same key's address on every EVM chain, OKC included, as a
    Polkadot key controls its account on the relay chain and Asset Hub alike; OKC's OKX envelope is not
    accepted on Ethereum.)"""
    eth = next(v for v in VECTORS if v[0] == "ETH")
    okc = next(v for v in VECTORS if v[0] == "OKC" and v[1].startswith("0x"))
    ltc = next(v for v in VECTORS if v[0] == "LTC" and v[1].startswith("L"))
    sol = next(v for v in VECTORS if v[0] == "SOL")
    dot = next(v for v in VECTORS if v[0] == "DOT")
    for network, vector in (
        ("ETH", okc),
        ("BSC", okc),
        ("BTC", ltc),
        ("DOGE", ltc),
        ("APTOS", sol),
        ("KSM", dot),
        ("TRON", eth),
    ):
        _, status, _, reason, _ = check_row(_row(network, *vector[1:6]))
        assert status != "verified", (network, vector[0], reason)


def test_xrp_key_must_derive_the_account() -> None:
    xrp = next(v for v in VECTORS if v[0] == "XRP")
    other_account = "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"  # the XRP Ledger genesis account
    assert check_row(_row("XRP", other_account, *xrp[2:6]))[1] == "failed"
    okx_other_key = "022e6cb3bc597b11f64aa46b40a6c6aa4853557ef66b53c6a49a9540b25e0afe1b"  # OKX's AVAX-X key
    assert check_row(_row("XRP", xrp[1], xrp[2], xrp[3], "", okx_other_key))[1] == "failed"


def test_bitcoin_hex_form_okx_envelope() -> None:
    """OKX's tool also takes `0x` r || s || v signatures over Keccak-256 of its envelope on UTXO chains,
    alone (P2PKH) or mixed with BIP-137 signatures in a multisig."""
    from zkpor.reserves.evm import okx_envelope_digest

    from . import signers as s

    keys = [s.key(7000 + i) for i in range(3)]
    pubs = [k.public_key.format() for k in keys]
    hex_sig = s.evm_sign(keys[0], okx_envelope_digest(AUP.encode()))
    address = s.p2pkh("LTC", pubs[0])
    verdict = check_row(_row("LTC", address, AUP, hex_sig, "", ""))
    assert verdict[1:3] == ("verified", "OKX hex P2PKH"), verdict
    assert check_row(_row("LTC", address, AUP + "!", hex_sig, "", ""))[1] == "failed"
    assert check_row(_row("LTC", s.p2pkh("LTC", pubs[1]), AUP, hex_sig, "", ""))[1] == "failed"
    script = s.multisig_script(2, pubs)
    base64_sig = s.legacy_sign(keys[2], "BTC", AUP)
    verdict = check_row(_row("BTC", s.p2sh("BTC", script), AUP, hex_sig, base64_sig, script.hex()))
    assert verdict[1:3] == ("verified", "2-of-3 multisig P2SH (BIP-137 and OKX hex signatures)"), verdict
    # Short of the threshold: one signature of a 2-of-3, or the same key twice.
    assert check_row(_row("BTC", s.p2sh("BTC", script), AUP, hex_sig, "", script.hex()))[1] == "failed"
    twice = s.legacy_sign(keys[0], "BTC", AUP)
    assert check_row(_row("BTC", s.p2sh("BTC", script), AUP, hex_sig, twice, script.hex()))[1] == "failed"


# okx/proof-of-reserves example/okx_por_example.csv: an Aptos account (a placeholder address) whose key
# was rotated; EOA1 is the current authentication key.
APTOS_ROTATED = (
    "0xdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef",
    "0xab8864be5630560bdd97ba9db7a1f30730779d294f5ecf66ca56039807ef1d0cc83a7653bb7359c8f7cd4f0f1df45164d3c3916b534bc3bf68bb3e8f8168bc04",
    "0x75067a6dbd4dced2f1ab3a58a2b2103daa0def4d436315f98134957399809aac",
    "0x5bb5d85934c7587a22960ef72e9d8cd5313a60447e57a2183b1aae285d90352e",
)


def test_aptos_rotated_key_owner_mode(tmp_path) -> None:  # noqa: ANN001
    import json

    from zkpor.reserves.accounts import CombinedAccounts
    from zkpor.reserves.engine import verify_reserves
    from zkpor.reserves.owners import OwnersFile

    address, signature, key, auth_key = APTOS_ROTATED
    row = ReserveRow(
        2, "APTOS", "APTOS", "100", address, "1.5", OKX, signature, "", key, auth_key, "", "", ""
    )
    _, status, scheme, reason, link = check_row(row)
    assert status == "unsupported" and "--owners" in reason
    assert link == (address, auth_key, f"Aptos ed25519 (exchange envelope), rotated key {auth_key}")
    # EOA1 that is not the key's authentication key, or an altered signature: failed.
    assert check_row(row._replace(eoa1="0x" + "ee" * 32))[1] == "failed"
    assert check_row(row._replace(signature1=_flip(signature)))[1] == "failed"
    # Settled by an owners file recording EOA1 as the account's authentication key at the snapshot
    # (short form of it too), and refused when the file records another key.
    header = "coin,network,height,address,amount,message,signature1,signature2,public key,eoa1,eoa2\n"
    reserves = tmp_path / "r.csv"
    reserves.write_text(header + f"APTOS,APTOS,100,{address},1.5,{OKX},{signature},,{key},{auth_key},\n")
    for owner, expected in ((auth_key, "verified"), ("0x" + "11" * 32, "failed")):
        path = tmp_path / "owners.json"
        path.write_text(
            json.dumps([{"network": "aptos", "address": address, "height": 100, "owners": [owner]}])
        )
        verify_reserves(
            reserves, tmp_path / "out.csv", accounts=CombinedAccounts([OwnersFile(path)]), workers=1
        )
        result = (tmp_path / "out.csv").read_text().splitlines()[1]
        assert f",{expected}," in result, result


# okx/proof-of-reserves example/test.csv as published (OKX's newest, 9-column layout).
OKX_TEST_CSV = """digitalAsset,network,address,signedMessage,signedMessage2,message,publicKey,owner1,owner2
USDT,ETH,0x6a32bea6b4050763a6673202efde42ad87bec0b5,0x63e1ecb04bf62e1f002c28747f85d5389541c8c23042240ff44dc9a37417ac4e11fa30c66af459be9c21b39e3f9028c058d6fe5c6145f049c2a922a047bc08d91b,null,OKC_DTT_AUP2025,,,
ETH,STARKNET,0x03b7f0b02b63683eca1639fb2d5dfa1021628d4ee728b03bc0ac2be66edc32f1,04550efc3034895232cac30b73677c81cf949e7428d9629eda85b83e60614f45061639b572eb88f82f304b6a3ad4f2392a835e5582b918da53ddaaee4e342ea0,null,OKC_DTT_AUP2025,0x6459074aa056e6dfb18539e414720ca7518b4d9b6d9a9fa0a3a64b8e2287963,,
BTC,BTC,bc1q82aks5ft2at48wp0sa6rr5vtzutvgzr8azts6w8nlu0dqc2dx24qvzwspk,ICCxeipsfRZUurcUKGkXzA9p3WVrDeNzdAg1yojDRrCBGY/2fRe6Sg9F0tgQ6a4THqIJoCSIlmyxay6QQ6FSfcY=,H3CfdwwB+klW7yPNpHeuQhpzxdmXEWczUSp4UziFimaLCdzg9bpw/KP+TwawJlOhD5EZS++Y1A9EU4pkps5VWRE=,OKC_DTT_AUP2025,522103cf1f7e2d8e428e5dfc36d9eacd679a0bf7356a8e05dd02c8a9a12db36bb1c92421027b961ddea8ae2e81d47804685cf2ab820a4d59cdcb10f70adeeaf0e4d8817eae2102813215371e992904e68b3b77752898b22d89d7ca1c2562e8403040fd5e807c1453ae,,
DOT,DOT,12Z1EpgUskkbinZ47CdiUSdBMSvh4FVhgr6iDKfiyvEFndEa,0x63b8adb6308fbcec5ee978527531af458c5bd9fec573f29190946225084354262c9fd68bbc72607688611c6209f25efd7a41666f5fa5d4b0bc67c0e5d44c9b0d,null,OKC_DTT_AUP2025,0x44a4e37cb0fe0d92117dfb7785ea8d5fc6086cac726698e4b1cf08a473d0658c,,
ADA,ADA,addr1v9500j9f8sgnw9uftxmuc429kyy2mduuaj3649rw779v8ks4nyrxz,0x9dab6076e018f4275b34e9ba93aed12b960573857a1b0373387ae8407b76f510a4c545ea29fa754f29a1100d1763acad3722a8b7dd297f7516491108a1a75009,null,OKC_DTT_AUP2025,0x9a2d141e5495a5430a728e29855c9c53a5656b8c059a8570544390c39b95d5e9,,
DOGE,DOGE,AB98NMrZQ48RAj7jRS7L7AcT6d8SCvu2Uq,ICIByz72Kv9dDYC/0m85B+50FnZSG08Zw9Ll22HX1omVbFXQFXas2+E+QuTc9BcIUy1cqt7JogICQOMa5sdX4ek=,H7Sp60puyJSnxMO3y2IPAyIRIJqUr6vfm8oNarS1zPUMBqpLrryL4Bli9ymQWpsHyL6sPm6AuhRsTJtLfST7Lfc=,OKC_DTT_AUP2025,5221020b65f1fd63f160d509740c03d4f8f13eb16bc50c6df3cc2e3b19420faad235b621024f32d5d4d361270b65cf9b838833635ebfad40d9b0e37b12b9fd6281083143f821031423c97389660dc5104f75b64c64d1af05a6c21516a1f3a6fe93e14e9ba5801653ae,,
ETC,OKC,0x5f504cd119640d5167c003ce9e4250895374b24f,0x37265350f38f2b07edfb697cfba5ea64185f3e2916e18212fc52cc68994e61187208310782544fffda0c36acdb2268289e17971755584d6faccbcfe0850aafb11b,null,OKC_DTT_AUP2025,null,,
TRX,TRON,TSBg5SM1TXVXneSivmzpZa9hpccLNeYcWq,0x1cf39b1080787540fa4c227d254b7b2f56d4f429ef34d89e8fb5351061e978223f0ca7bc06a3f27529b97143cd06d4a741ab815f1e08faf096df65b46d99ad7e1b,null,OKC_DTT_AUP2025,null,,
EOS,Vaulta,okbwallet1tr,SIG_K1_K1fyBKSBw62ioqwFAFUhuFeCF5SbjbDv387RMAoQVy2VqmM1MhEXZSQ4A38PX7g128NBAanXMkwqYErAD1LNZR2ZWQigJz,,OKC_DTT_AUP2025,EOS7nGMZSQxyvJkH5WDnuGsSQMp7yCRYA5AX4GMAXh6WtmqnMT79X,,
"""


def test_okx_published_test_csv_row_by_row(tmp_path) -> None:  # noqa: ANN001
    """The published file through the whole engine: every row verifies, except the two whose account
    link is chain state (Starknet account, EOS account), which verify once an owners record and the
    account's permissions are given."""
    import csv
    import json

    from zkpor.reserves.accounts import CombinedAccounts, EosAccountsFile
    from zkpor.reserves.engine import verify_reserves
    from zkpor.reserves.owners import OwnersFile

    reserves = tmp_path / "test.csv"
    reserves.write_text(OKX_TEST_CSV)

    def statuses(accounts) -> list[str]:  # noqa: ANN001
        verify_reserves(reserves, tmp_path / "out.csv", accounts=accounts, workers=1)
        with open(tmp_path / "out.csv", newline="") as handle:
            return [(r["network"], r["status"]) for r in csv.DictReader(handle)]

    first = statuses(None)
    assert [s for _, s in first] == ["verified"] + ["unsupported"] + ["verified"] * 6 + ["unsupported"], first
    owners = tmp_path / "owners.json"
    owners.write_text(
        json.dumps(
            [
                {
                    "network": "starknet",
                    "address": "0x03b7f0b02b63683eca1639fb2d5dfa1021628d4ee728b03bc0ac2be66edc32f1",
                    "height": 1,
                    "owners": ["0x6459074aa056e6dfb18539e414720ca7518b4d9b6d9a9fa0a3a64b8e2287963"],
                }
            ]
        )
    )
    eos_accounts = tmp_path / "eos.json"
    key = "EOS7nGMZSQxyvJkH5WDnuGsSQMp7yCRYA5AX4GMAXh6WtmqnMT79X"
    auth = {"threshold": 1, "keys": [{"key": key, "weight": 1}], "accounts": [], "waits": []}
    eos_accounts.write_text(
        json.dumps(
            [
                {
                    "account_name": "okbwallet1tr",
                    "permissions": [{"perm_name": "active", "required_auth": auth}],
                }
            ]
        )
    )
    # The file has no heights (9-column layout): the round's heights are given (--height).
    accounts = CombinedAccounts([OwnersFile(owners), EosAccountsFile(eos_accounts)])
    verify_reserves(
        reserves, tmp_path / "out.csv", accounts=accounts, workers=1, heights={"starknet": 1, "eos": 1}
    )
    with open(tmp_path / "out.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["status"] for r in rows] == ["verified"] * 9, [(r["network"], r["reason"]) for r in rows]


def test_undecodable_bitcoin_address_never_verifies() -> None:
    """OKX's tool returns success when a UTXO address does not decode for the coin; here it fails."""
    network, address, message, sig1, sig2, key, _ = VECTORS[0]
    for bad in (address[:-1] + ("Q" if address[-1] != "Q" else "R"), "not-an-address", ""):
        _, status, _, reason, _ = check_row(_row(network, bad, message, sig1, sig2, key))
        assert status == "failed", (bad, reason)
