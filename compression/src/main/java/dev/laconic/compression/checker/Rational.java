package dev.laconic.compression.checker;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;

/**
 * An exact fraction num/den (den > 0, lowest terms). Answers written with integers only
 * ({@code 2^{100}}, {@code \frac{3840}{289}}, {@code 11,111,111,100}) are compared exactly, because a
 * relative tolerance of 1e-4 would accept 2^{100}+1 for 2^{100}.
 */
record Rational(BigInteger num, BigInteger den) {
    static final Rational ZERO = new Rational(BigInteger.ZERO, BigInteger.ONE);
    static final Rational ONE = new Rational(BigInteger.ONE, BigInteger.ONE);

    // past this many bits a value is not an answer anyone writes; give up rather than run away
    static final int MAX_BITS = 20_000;

    static Rational of(BigInteger num, BigInteger den) {
        if (den.signum() == 0) return null;
        if (den.signum() < 0) {
            num = num.negate();
            den = den.negate();
        }
        BigInteger g = num.gcd(den);
        if (!g.equals(BigInteger.ONE) && g.signum() != 0) {
            num = num.divide(g);
            den = den.divide(g);
        }
        if (num.bitLength() > MAX_BITS || den.bitLength() > MAX_BITS) return null;
        return new Rational(num, den);
    }

    /** A written decimal, exactly: 0.15 = 3/20; null past {@link #MAX_BITS}. */
    static Rational of(BigDecimal d) {
        if (Math.abs((long) d.scale()) > 2_000) return null;
        return d.scale() <= 0 ? of(d.toBigIntegerExact(), BigInteger.ONE) : of(d.unscaledValue(), BigInteger.TEN.pow(d.scale()));
    }

    static Rational of(long n) { return new Rational(BigInteger.valueOf(n), BigInteger.ONE); }

    Rational add(Rational o) { return of(num.multiply(o.den).add(o.num.multiply(den)), den.multiply(o.den)); }

    Rational multiply(Rational o) { return of(num.multiply(o.num), den.multiply(o.den)); }

    /** null for division by zero. */
    Rational divide(Rational o) { return of(num.multiply(o.den), den.multiply(o.num)); }

    Rational negate() { return new Rational(num.negate(), den); }

    /** this^e for an integer e (null when undefined, 0^-1, or too large). */
    Rational pow(Rational e) {
        if (!e.den.equals(BigInteger.ONE) || e.num.bitLength() > 16) return null;
        int k = e.num.intValueExact();
        if ((long) Math.abs(k) * Math.max(num.bitLength(), den.bitLength()) > MAX_BITS) return null;
        Rational r = of(num.pow(Math.abs(k)), den.pow(Math.abs(k)));
        return k >= 0 || r == null ? r : ONE.divide(r);
    }

    boolean isInteger() { return den.equals(BigInteger.ONE); }

    double doubleValue() {
        return new BigDecimal(num).divide(new BigDecimal(den), MathContext.DECIMAL64).doubleValue();
    }
}
